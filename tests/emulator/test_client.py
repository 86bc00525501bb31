"""The real langchain-google-genai client (google-genai over httpx) against the emulator."""

from __future__ import annotations

import asyncio
import enum
import threading
import time
from typing import Literal

import pytest
from emulator_models import TEST_MODELS
from pydantic import BaseModel, Field

from tierwise.emulator import Emulator, Rule, ScriptedBackend, count_tokens

MODEL = "gemini-3.5-flash-lite"  # same default as the chat fixture

ANSWER = "Paris is the capital of France, and it has been for a very long time indeed."


def test_invoke_returns_scripted_text_usage_and_metadata(emulator, chat):
    emu = emulator([Rule(model="gemini-*", user="capital", reply=ANSWER)])
    msg = chat(emu).invoke([("system", "Be terse."), ("human", "What is the capital of France?")])

    assert msg.text == ANSWER
    prompt = count_tokens("Be terse.") + count_tokens("What is the capital of France?")
    assert msg.usage_metadata["input_tokens"] == prompt
    assert msg.usage_metadata["output_tokens"] == count_tokens(ANSWER)
    assert msg.usage_metadata["total_tokens"] == prompt + count_tokens(ANSWER)
    assert msg.response_metadata["finish_reason"] == "STOP"
    assert msg.response_metadata["model_name"] == MODEL


def test_system_instruction_reaches_backend_and_selects_rule(emulator, chat):
    emu = emulator(
        [
            Rule(system=r"(?i)you are a judge", reply="PASS"),
            Rule(system=r"triage", reply="bug"),
        ]
    )
    llm = chat(emu)
    assert llm.invoke([("system", "You are a JUDGE. Grade it."), ("human", "draft")]).text == "PASS"
    assert llm.invoke([("system", "Do triage."), ("human", "ticket")]).text == "bug"

    first, second = emu.requests
    assert first.system == "You are a JUDGE. Grade it."
    assert first.messages == [("user", "draft")]
    assert first.user == "draft"
    assert (first.model, first.stream, first.method) == (MODEL, False, "generateContent")
    assert second.system == "Do triage."


def test_ainvoke(emulator, chat):
    emu = emulator([Rule(user="capital", reply=ANSWER)])
    msg = asyncio.run(chat(emu).ainvoke("capital of France?"))
    assert msg.text == ANSWER
    assert msg.usage_metadata["output_tokens"] == count_tokens(ANSWER)


def _join(chunks):
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


def test_stream_splits_text_and_sums_usage_like_invoke(emulator, chat):
    emu = emulator([Rule(user="capital", reply=ANSWER, thoughts=9, cached_tokens=2)])
    llm = chat(emu)
    reference = llm.invoke([("system", "Be terse."), ("human", "capital?")]).usage_metadata

    chunks = list(llm.stream([("system", "Be terse."), ("human", "capital?")]))
    text_chunks = [c for c in chunks if c.text]
    assert len(text_chunks) >= 3
    streamed = _join(chunks)
    assert streamed.text == ANSWER
    assert streamed.usage_metadata == reference
    assert streamed.usage_metadata["output_token_details"] == {"reasoning": 9}
    assert streamed.usage_metadata["input_token_details"] == {"cache_read": 2}
    assert streamed.response_metadata["finish_reason"] == "STOP"
    assert emu.requests[-1].stream is True
    assert emu.requests[-1].method == "streamGenerateContent"


def test_astream_sums_usage(emulator, chat):
    emu = emulator([Rule(reply=ANSWER, thoughts=4)])
    llm = chat(emu)

    async def collect():
        return [chunk async for chunk in llm.astream("anything")]

    streamed = _join(asyncio.run(collect()))
    assert streamed.text == ANSWER
    assert streamed.usage_metadata["input_tokens"] == 1
    assert streamed.usage_metadata["output_tokens"] == count_tokens(ANSWER) + 4
    assert streamed.usage_metadata["total_tokens"] == 1 + count_tokens(ANSWER) + 4


class Priority(enum.StrEnum):
    LOW = "low"
    HIGH = "high"


class Severity(enum.IntEnum):
    MINOR = 1
    MAJOR = 2


class Triage(BaseModel):
    priority: Priority
    severity: Severity
    kind: Literal["bug", "question"]
    summary: str = Field(description="one line")


def test_structured_output_with_enums(emulator, chat):
    reply = {"priority": "high", "severity": 2, "kind": "bug", "summary": "crash on save"}
    emu = emulator([Rule(user="Triage", reply=reply)])
    structured = chat(emu).with_structured_output(Triage, method="json_schema", include_raw=True)

    out = structured.invoke("Triage: the app crashes when I save")

    assert out["parsing_error"] is None
    expected = Triage(priority=Priority.HIGH, severity=Severity.MAJOR, kind="bug", summary="crash on save")
    assert out["parsed"] == expected
    assert out["raw"].usage_metadata["output_tokens"] > 0
    sent = emu.requests[0]
    assert sent.response_mime_type == "application/json"
    assert set(sent.json_schema["$defs"]) == {"Priority", "Severity"}
    assert sent.json_schema["properties"]["kind"]["enum"] == ["bug", "question"]


def test_max_output_tokens_cuts_with_max_tokens_finish(emulator, chat):
    emu = emulator([Rule(reply=ANSWER)])
    msg = chat(emu, max_output_tokens=5).invoke("hi")

    assert msg.text == "Paris is the capital of"
    assert msg.usage_metadata["output_tokens"] == 5
    assert msg.response_metadata["finish_reason"] == "MAX_TOKENS"
    assert emu.requests[0].max_output_tokens == 5


def test_max_output_tokens_covers_thoughts_too(emulator, chat):
    emu = emulator([Rule(reply=ANSWER, thoughts=4)])
    msg = chat(emu, max_output_tokens=6).invoke("hi")

    assert msg.text == "Paris is"
    assert msg.usage_metadata["output_tokens"] == 6
    assert msg.usage_metadata["output_token_details"] == {"reasoning": 4}
    assert msg.response_metadata["finish_reason"] == "MAX_TOKENS"


def test_thoughts_count_as_output_and_reasoning(emulator, chat):
    emu = emulator([Rule(reply="Yes.", thoughts=12)])
    usage = chat(emu).invoke("Is it?").usage_metadata

    assert usage["output_tokens"] == count_tokens("Yes.") + 12
    assert usage["output_token_details"] == {"reasoning": 12}
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_thinking_budget_and_level_reach_backend(emulator, chat):
    emu = emulator([Rule(reply="Yes.", thoughts=12)])
    capped = chat(emu, model="gemini-2.5-flash", thinking_budget=5).invoke("q").usage_metadata
    off = chat(emu, model="gemini-2.5-flash", thinking_budget=0).invoke("q").usage_metadata
    chat(emu, model="gemini-3-flash-preview", thinking_level="low").invoke("q")

    assert capped["output_token_details"] == {"reasoning": 5}
    assert "output_token_details" not in off
    budgets = [(r.thinking_budget, r.thinking_level) for r in emu.requests]
    assert budgets == [(5, None), (0, None), (None, "low")]


def test_temperature_is_forwarded(emulator, chat):
    emu = emulator([Rule(reply="ok")])
    chat(emu, model="gemini-2.5-flash", temperature=0.25).invoke("q")
    assert emu.requests[0].temperature == 0.25


def test_google_error_shape_surfaces_with_message(emulator, chat):
    from langchain_google_genai.chat_models import ChatGoogleGenerativeAIError

    message = "Permission denied on resource project demo."
    emu = emulator([Rule(error={"code": 403, "message": message})])
    with pytest.raises(ChatGoogleGenerativeAIError, match="Permission denied on resource project demo"):
        chat(emu, max_retries=1).invoke("hi")


def test_retryable_error_is_not_retried_with_max_retries_1(emulator, chat):
    from langchain_core.exceptions import ModelRateLimitError

    emu = emulator([Rule(error=429)])
    with pytest.raises(ModelRateLimitError, match="RESOURCE_EXHAUSTED"):
        chat(emu, max_retries=1).invoke("hi")
    assert len(emu.requests) == 1


def test_scripted_error_then_recovery_with_times(emulator, chat):
    emu = emulator([Rule(error=503, times=1), Rule(reply="recovered")])
    llm = chat(emu, max_retries=1)
    with pytest.raises(Exception, match="503 UNAVAILABLE"):
        llm.invoke("hi")
    assert llm.invoke("hi").text == "recovered"


def test_no_rule_matched_names_model_and_prompt(emulator, chat):
    emu = emulator([Rule(model="gemini-2.5-pro", reply="never")])
    expected = r"no rule matches model 'gemini-3.5-flash-lite'.*Summarise the quarterly"
    with pytest.raises(Exception, match=expected):
        chat(emu, max_retries=1).invoke("Summarise the quarterly report please")


def test_prompt_over_context_window_is_a_token_limit_error(emulator, chat):
    from langchain_core.exceptions import ContextOverflowError

    emu = emulator([Rule(reply="never")], context_window=10)
    with pytest.raises(ContextOverflowError) as info:
        chat(emu, max_retries=1).invoke("word " * 11)
    assert "exceeds the maximum number of tokens allowed (10)" in str(info.value)


def test_requests_log_and_logs_never_hold_the_api_key(emulator, chat, caplog, capfd):
    import logging

    secret = "canary-key-SECRET-do-not-log-123"
    caplog.set_level(logging.DEBUG)
    emu = emulator([Rule(user="ok", reply="fine")])
    llm = chat(emu, google_api_key=secret, max_retries=1)
    llm.invoke("ok")
    list(llm.stream("ok"))
    with pytest.raises(Exception, match="no rule"):
        llm.invoke("unmatched")

    assert len(emu.requests) == 3
    assert secret not in repr(emu.requests)
    assert all(secret not in repr(vars(r)) for r in emu.requests)
    out, err = capfd.readouterr()
    assert secret not in out + err
    assert secret not in caplog.text


class PeakBackend(ScriptedBackend):
    """Counts how many generate() calls run at the same time."""

    def __init__(self, rules):
        super().__init__(rules)
        self.running = self.peak = 0
        self._count_lock = threading.Lock()

    def generate(self, request):
        with self._count_lock:
            self.running += 1
            self.peak = max(self.peak, self.running)
        try:
            return super().generate(request)
        finally:
            with self._count_lock:
                self.running -= 1


def test_64_concurrent_requests(chat):
    backend = PeakBackend([Rule(user=r"item (?P<n>\d+)", reply="done $n", delay_ms=300)])
    with Emulator(backend, models=TEST_MODELS) as emu:
        llm = chat(emu)

        async def run_all():
            return await asyncio.gather(*(llm.ainvoke(f"item {i}") for i in range(64)))

        started = time.perf_counter()
        answers = asyncio.run(run_all())
        elapsed = time.perf_counter() - started

    assert [a.text for a in answers] == [f"done {i}" for i in range(64)]
    assert len(emu.requests) == 64
    assert backend.peak == 64
    assert elapsed < 64 * 0.3 / 4, f"requests were not served concurrently ({elapsed:.1f}s)"


def test_stream_errors_surface_like_invoke_errors(emulator, chat):
    emu = emulator([Rule(model="gemini-2.5-pro", reply="never")])
    with pytest.raises(Exception, match="no rule matches model"):
        list(chat(emu, max_retries=1).stream("unmatched prompt"))
