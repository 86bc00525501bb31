"""Each injected fault through the real client (max_retries=1): what it raises or returns, as on Gemini."""

from __future__ import annotations

import asyncio
import json
import time
from importlib.util import find_spec

import httpx
import pytest
from langchain_core import exceptions as lc

from tierwise.emulator import Fault, Faults, Rule

ANSWER = "Paris is the capital of France, and it has been for a very long time indeed."
MODES = ("invoke", "ainvoke", "stream", "astream")

# google-genai sends async calls through aiohttp whenever it is importable, else through httpx; sync calls always
# use httpx. Transport failures surface as that library's exceptions, unwrapped.
AIOHTTP = find_spec("aiohttp") is not None


def transport_error(mode: str, what: str) -> tuple[type[BaseException], str]:
    """(exception type, message regex) the client raises for a timeout / dropped connection / cut stream."""
    if mode.startswith("a") and AIOHTTP:
        import aiohttp

        return {"timeout": (TimeoutError, ""), "dropped": (aiohttp.ServerDisconnectedError, "Server disconnected"),
                "cut": (aiohttp.ClientPayloadError, "Response payload is not completed")}[what]
    return {"timeout": (httpx.ReadTimeout, ""), "dropped": (httpx.RemoteProtocolError, "without sending a response"),
            "cut": (httpx.RemoteProtocolError, "incomplete chunked read")}[what]


def call(llm, mode: str, prompt: str = "hi"):
    """One call in ``mode``; streamed chunks are summed. Returns the message (or chunks seen, for streams)."""
    if mode == "invoke":
        return llm.invoke(prompt)
    if mode == "ainvoke":
        return asyncio.run(llm.ainvoke(prompt))
    if mode == "stream":
        return _join(list(llm.stream(prompt)))

    async def collect():
        return [chunk async for chunk in llm.astream(prompt)]

    return _join(asyncio.run(collect()))


def _join(chunks):
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    return total


@pytest.fixture
def faulty(emulator, chat):
    """``faulty(*faults, **chat_kwargs)``: a client whose every call goes through the given faults."""

    def make(*faults: Fault, model: str = "gemini-3.5-flash-lite", **kwargs):
        emu = emulator([Rule(reply=ANSWER)], faults=Faults(faults), tokens_per_chunk=3)
        return emu, chat(emu, model=model, max_retries=1, **kwargs)

    return make


@pytest.mark.parametrize("mode", MODES)
def test_rate_limit_is_429_with_retry_after_and_retry_info(faulty, mode):
    from google.genai.errors import ClientError

    emu, llm = faulty(Fault("rate_limit", retry_after=1.5))
    with pytest.raises(lc.ModelRateLimitError, match="RESOURCE_EXHAUSTED") as info:
        call(llm, mode)

    cause = info.value.__cause__
    assert isinstance(cause, ClientError) and cause.code == 429
    assert cause.response.headers["retry-after"] == "1.5"
    details = {d["@type"].rsplit(".", 1)[-1]: d for d in cause.details["error"]["details"]}
    assert details["RetryInfo"]["retryDelay"] == "1.500s"
    assert details["QuotaFailure"]["violations"][0]["quotaDimensions"]["model"] == "gemini-3.5-flash-lite"
    assert emu.requests[0].fault == "rate_limit"
    assert emu.faults_applied == {"rate_limit": 1}


@pytest.mark.parametrize(("header", "retry_info"), [(False, True), (True, False)])
def test_rate_limit_header_and_retry_info_can_be_switched_off(faulty, header, retry_info):
    _, llm = faulty(Fault("rate_limit", retry_after=2, header=header, retry_info=retry_info))
    with pytest.raises(lc.ModelRateLimitError) as info:
        llm.invoke("hi")
    cause = info.value.__cause__
    assert ("retry-after" in cause.response.headers) is header
    types = [d["@type"] for d in cause.details["error"]["details"]]
    assert ("type.googleapis.com/google.rpc.RetryInfo" in types) is retry_info


@pytest.mark.parametrize(
    ("fault", "code", "status"),
    [(Fault("server_error"), 500, "INTERNAL"), (Fault("server_error", code=504), 504, "DEADLINE_EXCEEDED"),
     (Fault("unavailable"), 503, "UNAVAILABLE")],
)
@pytest.mark.parametrize("mode", ["invoke", "stream"])
def test_server_errors_are_model_api_errors(faulty, fault, code, status, mode):
    from google.genai.errors import ServerError

    _, llm = faulty(fault)
    with pytest.raises(lc.ModelAPIError) as info:
        call(llm, mode)
    assert isinstance(info.value, ServerError)  # GoogleAPIError is both
    assert (info.value.code, info.value.status) == (code, status)


@pytest.mark.parametrize("mode", MODES)
def test_slow_with_client_timeout_is_httpx_read_timeout(faulty, mode):
    emu, llm = faulty(Fault("slow", delay_ms=5000), timeout=0.3)
    started = time.perf_counter()
    with pytest.raises(transport_error(mode, "timeout")[0]):
        call(llm, mode)
    assert time.perf_counter() - started < 2
    assert emu.faults_applied == {"slow": 1}


def test_slow_without_timeout_answers_late(faulty):
    _, llm = faulty(Fault("slow", delay_ms=250))
    started = time.perf_counter()
    assert llm.invoke("hi").text == ANSWER
    assert time.perf_counter() - started >= 0.25


@pytest.mark.parametrize("mode", ["invoke", "astream"])
def test_hang_times_out_or_ends_with_a_dropped_connection(faulty, mode):
    _, with_timeout = faulty(Fault("hang"), timeout=0.3)
    with pytest.raises(transport_error(mode, "timeout")[0]):
        call(with_timeout, mode)
    _, without = faulty(Fault("hang", delay_ms=200))
    raised, match = transport_error(mode, "dropped")
    with pytest.raises(raised, match=match):
        call(without, mode)


def test_stop_wakes_a_hanging_handler(emulator, chat):
    emu = emulator([Rule(reply="x")], faults=Faults([Fault("hang", delay_ms=600_000)]))
    with pytest.raises(httpx.ReadTimeout):
        chat(emu, max_retries=1, timeout=0.2).invoke("hi")
    started = time.perf_counter()
    emu.stop()
    assert time.perf_counter() - started < 2


@pytest.mark.parametrize(
    ("mode", "raised"),
    [("invoke", json.JSONDecodeError), ("ainvoke", json.JSONDecodeError), ("stream", ValueError),
     ("astream", ValueError)],
)
def test_malformed_json_raises_a_decode_error(faulty, mode, raised):
    _, llm = faulty(Fault("malformed"))
    with pytest.raises(raised) as info:
        call(llm, mode)
    if mode.endswith("stream"):  # google.genai's UnknownApiResponseError, a ValueError, from the JSONDecodeError
        assert type(info.value).__name__ == "UnknownApiResponseError"
        assert isinstance(info.value.__cause__, json.JSONDecodeError)


def test_malformed_stream_delivers_good_chunks_first(faulty):
    _, llm = faulty(Fault("malformed", chunks=2))
    seen = []
    with pytest.raises(ValueError, match="Failed to parse response as JSON"):
        for chunk in llm.stream("hi"):
            seen.append(chunk.text)
    assert "".join(seen) == "Paris is the capital of France"


@pytest.mark.parametrize("mode", MODES)
def test_empty_candidates_is_an_empty_message(faulty, mode):
    _, llm = faulty(Fault("empty"))
    msg = call(llm, mode)
    assert msg.text == "" and not msg.tool_calls
    assert not msg.response_metadata.get("finish_reason")


@pytest.mark.parametrize("mode", MODES)
def test_safety_is_finish_reason_safety_without_text(faulty, mode):
    _, llm = faulty(Fault("safety"))
    msg = call(llm, mode)
    assert msg.text == ""
    assert msg.response_metadata["finish_reason"] == "SAFETY"
    assert msg.usage_metadata["input_tokens"] == 1


@pytest.mark.parametrize("mode", MODES)
def test_max_tokens_cuts_the_answer(faulty, mode):
    _, llm = faulty(Fault("max_tokens", tokens=4))
    msg = call(llm, mode)
    assert msg.text == "Paris is the capital"
    assert msg.response_metadata["finish_reason"] == "MAX_TOKENS"
    assert msg.usage_metadata["output_tokens"] == 4


@pytest.mark.parametrize("mode", ["invoke", "ainvoke"])
def test_stream_cut_without_streaming_drops_the_connection(faulty, mode):
    _, llm = faulty(Fault("stream_cut"))
    raised, match = transport_error(mode, "dropped")
    with pytest.raises(raised, match=match):
        call(llm, mode)


@pytest.mark.parametrize("mode", ["stream", "astream"])
def test_stream_cut_mid_stream_after_some_chunks(faulty, mode):
    _, llm = faulty(Fault("stream_cut", chunks=2))

    async def astream():
        async for chunk in llm.astream("hi"):
            seen.append(chunk.text)

    seen: list[str] = []
    raised, match = transport_error(mode, "cut")
    with pytest.raises(raised, match=match):
        if mode == "stream":
            for chunk in llm.stream("hi"):
                seen.append(chunk.text)
        else:
            asyncio.run(astream())
    assert "".join(seen) == "Paris is the capital of France"


@pytest.mark.parametrize("mode", MODES)
def test_context_overflow_fault_is_context_overflow_error(faulty, mode):
    from google.genai.errors import ClientError

    _, llm = faulty(Fault("context_overflow", limit=1000))
    with pytest.raises(lc.ContextOverflowError) as info:
        call(llm, mode)
    assert isinstance(info.value, ClientError) and info.value.code == 400
    assert "The input token count (1001) exceeds the maximum number of tokens allowed (1000)." in str(info.value)


def test_per_model_context_window_overflows_for_real(emulator, chat):
    emu = emulator([Rule(reply="fits")], context_windows={"gemini-3.5-flash-lite": 5})
    long = "one two three four five six"
    assert chat(emu, model="gemini-3.8-flash", max_retries=1).invoke(long).text == "fits"
    with pytest.raises(lc.ContextOverflowError, match=r"count \(6\) exceeds .* allowed \(5\)"):
        chat(emu, max_retries=1).invoke(long)
    assert chat(emu, max_retries=1).invoke("short").text == "fits"
    assert [r.fault for r in emu.requests] == [None, None, None]  # a real overflow is no injected fault


def test_faults_target_models_and_are_counted(emulator, chat):
    faults = Faults([Fault("unavailable", model="gemini-3.5-flash-lite", times=2), Fault("empty", model="*-pro")])
    emu = emulator([Rule(reply="ok")], faults=faults)
    lite, flash, pro = (chat(emu, model=m, max_retries=1) for m in ("gemini-3.5-flash-lite", "gemini-3.8-flash",
                                                                   "gemini-3.1-pro"))
    for _ in range(2):
        with pytest.raises(lc.ModelAPIError):
            lite.invoke("hi")
    assert lite.invoke("hi").text == "ok"  # times=2 used up
    assert flash.invoke("hi").text == "ok"
    assert pro.invoke("hi").text == ""

    assert [(r.model, r.fault) for r in emu.requests] == [
        ("gemini-3.5-flash-lite", "unavailable"),
        ("gemini-3.5-flash-lite", "unavailable"),
        ("gemini-3.5-flash-lite", None),
        ("gemini-3.8-flash", None),
        ("gemini-3.1-pro", "empty"),
    ]
    assert emu.faults_applied == {"unavailable": 2, "empty": 1}


def test_a_failed_call_does_not_use_up_a_scripted_rule(emulator, chat):
    emu = emulator([Rule(reply="first", times=1), Rule(reply="later")], faults=Faults([Fault("rate_limit", times=1)]))
    llm = chat(emu, max_retries=1)
    with pytest.raises(lc.ModelRateLimitError):
        llm.invoke("hi")
    assert llm.invoke("hi").text == "first"


def test_faults_compose_with_count_tokens_untouched(emulator, chat):
    emu = emulator([Rule(reply="ok")], faults=Faults([Fault("server_error")]))
    assert chat(emu, max_retries=1).get_num_tokens("one two three") > 0
