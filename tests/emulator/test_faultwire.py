"""Injected faults on the raw wire: exactly the bytes and headers a client sees."""

from __future__ import annotations

import http.client
import json

import pytest
from emulator_models import KEY

from tierwise.emulator import Fault, Faults, Rule

BODY = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}).encode()
TEXT = "one two three four five six seven eight nine ten"


def _post(emu, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    conn.request("POST", path, body=BODY, headers={"Content-Type": "application/json", **KEY})
    return conn.getresponse()


@pytest.fixture
def faulty(emulator):
    def make(fault: Fault):
        return emulator([Rule(reply=TEXT)], faults=Faults([fault]), tokens_per_chunk=3)

    return make


def test_rate_limit_wire(faulty):
    response = _post(faulty(Fault("rate_limit", retry_after=0.25)), "/v1beta/models/m:generateContent")
    assert response.status == 429
    assert response.getheader("Retry-After") == "0.25"
    error = json.loads(response.read())["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    assert error["details"][-1] == {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "0.250s"}


def test_malformed_body_is_200_json_that_does_not_parse(faulty):
    response = _post(faulty(Fault("malformed")), "/v1beta/models/m:generateContent")
    raw = response.read()
    assert response.status == 200 and response.getheader("Content-Type").startswith("application/json")
    assert raw.startswith(b'{"candidates"')
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_malformed_sse_chunk_then_a_clean_end(faulty):
    response = _post(faulty(Fault("malformed", chunks=1)), "/v1beta/models/m:streamGenerateContent?alt=sse")
    events = response.read().decode().split("\r\n\r\n")
    assert events[-1] == "" and len(events) == 3
    first = json.loads(events[0].removeprefix("data: "))
    assert first["candidates"][0]["content"]["parts"][0]["text"] == "one two three "
    with pytest.raises(json.JSONDecodeError):
        json.loads(events[1].removeprefix("data: "))


def test_stream_cut_sse_has_no_terminating_chunk(faulty):
    response = _post(faulty(Fault("stream_cut", chunks=2)), "/v1beta/models/m:streamGenerateContent?alt=sse")
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as info:
        response.read()
    events = info.value.partial.decode().split("\r\n\r\n")
    assert len(events) == 3 and events[-1] == ""  # two whole events, then the socket closed


@pytest.mark.parametrize("kind", ["malformed", "stream_cut"])
def test_non_sse_stream_json_array(faulty, kind):
    emu = faulty(Fault(kind))
    if kind == "stream_cut":
        with pytest.raises(http.client.RemoteDisconnected):
            _post(emu, "/v1beta/models/m:streamGenerateContent")
        return
    raw = _post(emu, "/v1beta/models/m:streamGenerateContent").read()
    assert raw.startswith(b"[{")
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_empty_and_safety_bodies(faulty):
    empty = json.loads(_post(faulty(Fault("empty")), "/v1beta/models/m:generateContent").read())
    assert empty["candidates"] == []
    assert empty["usageMetadata"]["promptTokenCount"] == empty["usageMetadata"]["totalTokenCount"] == 2

    blocked = json.loads(_post(faulty(Fault("safety")), "/v1beta/models/m:generateContent").read())
    (candidate,) = blocked["candidates"]
    assert candidate["finishReason"] == "SAFETY" and "content" not in candidate
    assert any(r.get("blocked") for r in candidate["safetyRatings"])


def test_count_tokens_is_never_faulted(faulty):
    emu = faulty(Fault("unavailable"))
    response = _post(emu, "/v1beta/models/m:countTokens")
    assert response.status == 200 and json.loads(response.read())["totalTokens"] == 2
    assert emu.faults_applied == {}


def test_model_info_reports_per_model_windows(emulator):
    emu = emulator([Rule(reply="x")], context_windows={"gemini-*-lite": 1000})
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    for model, limit in (("gemini-3.5-flash-lite", 1000), ("gemini-3.1-pro", 1_048_576)):
        conn.request("GET", f"/v1beta/models/{model}")
        assert json.loads(conn.getresponse().read())["inputTokenLimit"] == limit
