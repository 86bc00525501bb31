"""Staying up when Gemini doesn't: retries honouring Retry-After, fallback chains that never go down for critical
stages, answers checked for quality, context overflow, cooldown, typed failures — through the real client against
the emulator's fault injection."""

from __future__ import annotations

import asyncio
import time

import pytest
from pipeline import pipeline_rules

from tierwise import ModelCallError, acall_stage, build_graph, call_stage
from tierwise.emulator import Fault

LITE, OLD_LITE = "gemini-3.5-flash-lite", "gemini-3.1-flash-lite"
FLASH, PRO = "gemini-3.8-flash", "gemini-3.1-pro-preview"
FAST = "[resilience]\nbase_delay_s = 0.01\nmax_delay_s = 0.05\n"
SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}


@pytest.fixture
def faulty(scripted, tmp_path):
    """The shared scripted emulator with injected faults, and fast retry settings in ./tierwise.toml."""

    def start(faults, rules=None, registry="", **emulator_options):
        (tmp_path / "tierwise.toml").write_text(FAST + registry)
        return scripted(rules or [{"reply": "fine"}], faults, **emulator_options)

    return start


def attempts(records):
    return [(r.model, r.outcome, r.error_kind) for r in records]


def test_429_waits_for_retry_after_then_succeeds_on_the_same_model(faulty):
    emulator, context = faulty([Fault("rate_limit", model=LITE, times=1, retry_after=0.3)])
    started = time.monotonic()
    result = call_stage("draft", "hello", context=context)
    assert time.monotonic() - started >= 0.3  # the server's Retry-After was honoured
    assert attempts(result.records) == [(LITE, "error", "rate_limited"), (LITE, "ok", None)]
    assert result.records[1].attempt == 2


def test_retry_info_alone_is_honoured(faulty):
    _, context = faulty([Fault("rate_limit", model=LITE, times=1, retry_after=0.25, header=False)])
    started = time.monotonic()
    call_stage("draft", "hello", context=context)
    assert time.monotonic() - started >= 0.25


def test_a_retry_after_too_long_to_wait_moves_down_the_chain(faulty):
    _, context = faulty([Fault("rate_limit", model=LITE, retry_after=120)], registry="max_wait_s = 5\n")
    started = time.monotonic()
    result = call_stage("draft", "hello", context=context)
    assert time.monotonic() - started < 5
    assert attempts(result.records) == [(LITE, "error", "rate_limited"), (OLD_LITE, "ok", None)]
    assert result.record.fallback is True


def test_a_non_critical_stage_falls_back_when_its_model_is_down(faulty):
    _, context = faulty([Fault("unavailable", model=LITE), Fault("server_error", model=OLD_LITE)])
    result = call_stage("draft", "hello", context=context)
    assert [r.model for r in result.records] == [LITE] * 3 + [OLD_LITE] * 3 + [FLASH]
    assert result.record.tier == "flash" and result.ok


def test_a_critical_stage_never_goes_down_and_fails_typed(faulty, llm_triage):  # scripted triage: simple
    rules = pipeline_rules(triage=SIMPLE, draft={"answer": "meh", "confidence": "high"},
                           judge={"score": 2, "reason": "wrong"})
    emulator, context = faulty([Fault("unavailable", model=PRO)], rules=rules,
                               registry="request_budget_s = 1.0\ncooldown_failures = 1000\n")
    started = time.monotonic()
    result = build_graph().invoke({"input": "Was I charged twice?"}, context=context)
    assert result["failure"]["stage"] == "polish" and result["failure"]["kind"] == "unavailable"
    assert result["answer"] == ""  # no cheaper text in the place of the critical stage's
    polish = [c for c in result["calls"] if c.stage == "polish"]
    # A critical stage persists past max_attempts (3) until its time budget is spent, and only on Pro.
    assert len(polish) > 3 and {c.model for c in polish} == {PRO} and all(c.tier == "pro" for c in polish)
    assert time.monotonic() - started >= 1.0 - 0.05  # up to one backoff (max_delay_s) short of the budget


def test_a_critical_stage_waits_and_retries_on_its_own_tier(faulty):
    _, context = faulty([Fault("unavailable", model=PRO, times=2)], rules=[{"reply": "Reasoned."}])
    result = call_stage("reason", "Think hard.", context=context)
    assert attempts(result.records) == [(PRO, "error", "unavailable")] * 2 + [(PRO, "ok", None)]


@pytest.mark.parametrize(("kind", "error_kind"), [("empty", "empty"), ("safety", "blocked"),
                                                  ("max_tokens", "truncated")])
def test_bad_answers_count_as_failures(faulty, kind, error_kind):
    _, context = faulty([Fault(kind, model=LITE)], rules=[{"reply": "A complete answer of several words."}])
    result = call_stage("draft", "hello", context=context)
    assert result.records[0].model == LITE and result.records[0].error_kind == error_kind
    assert result.record.model != LITE and result.value == "A complete answer of several words."


def test_an_answer_failing_its_schema_counts_as_a_failure(faulty):
    from tierwise.state import Score

    rules = [{"model": LITE, "reply": "not json at all"}, {"reply": {"score": 8, "reason": "ok"}}]
    _, context = faulty([], rules=rules)
    result = call_stage("draft", "grade this", schema=Score, context=context)
    assert attempts(result.records)[0] == (LITE, "unusable", "unusable")
    assert result.value.score == 8 and result.record.model == OLD_LITE


def test_context_overflow_goes_to_a_model_with_a_larger_window(faulty):
    registry = f'[models."{LITE}"]\ncontext_window = 5000\n'
    _, context = faulty([], registry=registry, context_windows={LITE: 50})
    result = call_stage("draft", "word " * 200, context=context)
    assert attempts(result.records) == [(LITE, "error", "context_overflow"), (OLD_LITE, "ok", None)]


def test_a_slow_model_times_out_and_the_chain_moves_on(faulty):
    registry = "[stages.draft]\ntimeout_s = 0.3\n"
    _, context = faulty([Fault("slow", model=LITE, delay_ms=2000)], registry=registry)
    result = call_stage("draft", "hello", context=context)
    assert [r.error_kind for r in result.records[:3]] == ["timeout"] * 3
    assert result.record.model == OLD_LITE and result.ok


@pytest.mark.parametrize("kind", ["malformed", "stream_cut", "hang"])
def test_broken_responses_are_retried(faulty, kind):
    _, context = faulty([Fault(kind, model=LITE, times=1, delay_ms=100)] if kind == "hang"
                        else [Fault(kind, model=LITE, times=1)])
    result = call_stage("draft", "hello", context=context)
    assert result.records[0].outcome == "error" and result.record.model == LITE and result.ok


def test_auth_errors_are_not_retried_anywhere(faulty):
    rules = [{"error": {"code": 401, "message": "API key not valid"}}]
    emulator, context = faulty([], rules=rules)
    with pytest.raises(ModelCallError) as info:
        call_stage("draft", "hello", context=context)
    assert info.value.kind == "auth" and len(info.value.records) == 1 and len(emulator.requests) == 1


def test_a_failing_model_cools_down_for_every_request(faulty):
    registry = "cooldown_failures = 2\ncooldown_s = 30\n"
    emulator, context = faulty([Fault("unavailable", model=LITE)], registry=registry)
    first = call_stage("draft", "one", context=context)
    # the second failure cools the model: this request leaves it too, before its third attempt
    assert [r.model for r in first.records].count(LITE) == 2
    second = call_stage("draft", "two", context=context)
    assert LITE not in [r.model for r in second.records]  # skipped while cooling down
    assert second.record.model == OLD_LITE


def test_async_calls_follow_the_same_policy(faulty):
    _, context = faulty([Fault("unavailable", model=LITE, times=1)])
    result = asyncio.run(acall_stage("draft", "hello", context=context))
    assert attempts(result.records) == [(LITE, "error", "unavailable"), (LITE, "ok", None)]
    again = asyncio.run(acall_stage("draft", "hello", context=context))  # a new event loop: new clients
    assert attempts(again.records) == [(LITE, "ok", None)]


def test_a_batch_goes_on_past_a_failed_item(faulty):
    rules = pipeline_rules(triage=SIMPLE, draft={"answer": "ok", "confidence": "high"},
                           judge={"score": 9, "reason": "fine"})
    rules.insert(0, {"user": "poison", "error": {"code": 401, "message": "API key not valid"}})
    _, context = faulty([], rules=rules)
    results = build_graph().batch([{"input": "fine 1"}, {"input": "poison"}, {"input": "fine 2"}], context=context)
    assert [bool(r["answer"]) for r in results] == [True, False, True]
    assert results[1]["route"] == "simple"  # triage failed on every model: the cheap path, never Pro
