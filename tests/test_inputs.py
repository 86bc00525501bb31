"""Bad input gets a clear error before any model call; the one call path refuses unknown stages."""

from __future__ import annotations

import re

import pytest
from pipeline import pipeline_rules

from tierwise import InvalidInputError, UnknownStageError, build_graph, call_stage

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}


@pytest.mark.parametrize(
    ("value", "message"),
    [("", "input is empty"), ("   \n\t ", "input is empty"), (None, "input must be text (str), got NoneType"),
     (42, "got int"), (b"bytes", "got bytes"), (["a list"], "got list")],
)
def test_graph_refuses_unusable_input_before_any_call(scripted, value, message):
    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        build_graph().invoke({"input": value}, context=context)
    assert emulator.requests == []


def test_missing_input_key(scripted):
    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match='the request has no "input" key'):
        build_graph().invoke({}, context=context)


def test_unknown_stage_is_refused_before_any_call(scripted):
    emulator, context = scripted([{"reply": "hi"}])
    with pytest.raises(UnknownStageError, match="unknown stage 'sumarize'"):
        call_stage("sumarize", "hello", context=context)
    assert emulator.requests == []


@pytest.mark.parametrize(
    ("messages", "message"),
    [([], "non-empty list"), ([("user", "  ")], "message 0 is empty"), ([("robot", "hi")], "unknown role"),
     ([("user",)], "(role, text) pair"), (b"hi", "non-empty list")],
)
def test_call_stage_checks_messages(scripted, messages, message):
    emulator, context = scripted([{"reply": "hi"}])
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        call_stage("draft", messages, context=context)
    assert emulator.requests == []


def test_call_stage_outside_a_graph_returns_a_priced_record(scripted):
    emulator, context = scripted([{"reply": "Bonjour."}])
    result = call_stage("judge", [("system", "Translate."), ("user", "Hello")], context=context)
    assert result.value == "Bonjour." and result.ok
    assert result.record.stage == "judge" and result.record.tier == "flash"
    assert result.record.cost_usd > 0 and result.record.all_pro_cost_usd > result.record.cost_usd
    sent = emulator.requests[0]
    assert sent.system == "Translate."
    # the stage's registry settings; gemini-3.8-flash ignores temperature (the catalogue says so): none is sent
    assert sent.temperature is None and sent.max_output_tokens == 256
    assert sent.thinking_level.lower() == "low"


def test_fixed_sampling_models_get_no_temperature(scripted, recwarn):
    emulator, context = scripted([{"reply": "ok"}])
    call_stage("draft", "Hello", context=context)  # draft runs on gemini-3.5-flash-lite
    assert emulator.requests[0].temperature is None
    assert not [w for w in recwarn if "sampling" in str(w.message)]


def test_a_failed_call_raises_a_typed_error_with_its_record(scripted):
    from tierwise import ModelCallError

    _, context = scripted([{"user": "never matches this"}])
    with pytest.raises(ModelCallError) as info:
        call_stage("draft", "hello", context=context)
    records = info.value.records
    assert [r.model for r in records] == ["gemini-3.5-flash-lite", "gemini-3.1-flash-lite", "gemini-3.8-flash"]
    assert all(r.outcome == "error" and r.error_kind == "bad_request" and r.stage == "draft" for r in records)
    assert info.value.kind == "bad_request"  # a 400 is not retried on the same model, only down the chain
    assert "no rule matches model 'gemini-3.8-flash'" in str(info.value)
