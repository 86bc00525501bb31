"""Raw HTTP behaviour: routes, Google's error envelope, SSE framing, keep-alive, lifecycle."""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from emulator_models import KEY, TEST_MODELS

from tierwise.emulator import Emulator, Rule, ScriptedBackend, serve

BODY = {"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]}


def _conn(emu: Emulator) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)


def _post(conn, path, body, headers=None):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json", **KEY, **(headers or {})})
    response = conn.getresponse()
    return response, response.read()


def _error(raw: bytes) -> dict:
    body = json.loads(raw)
    assert set(body) == {"error"} and {"code", "message", "status"} <= set(body["error"]) <= {
        "code", "message", "status", "details"}
    return body["error"]


def test_generate_content_body_shape(emulator):
    emu = emulator([Rule(reply="General Kenobi.", thoughts=3)])
    response, raw = _post(_conn(emu), "/v1beta/models/gemini-2.5-flash:generateContent", BODY)

    assert response.status == 200
    assert response.getheader("Content-Type").startswith("application/json")
    body = json.loads(raw)
    candidate = body["candidates"][0]
    assert candidate["content"] == {"role": "model", "parts": [{"text": "General Kenobi."}]}
    assert candidate["finishReason"] == "STOP"
    usage = body["usageMetadata"]
    assert (usage["promptTokenCount"], usage["candidatesTokenCount"], usage["thoughtsTokenCount"]) == (
        2,
        3,
        3,
    )
    assert usage["totalTokenCount"] == 8
    assert "cachedContentTokenCount" not in usage
    assert body["modelVersion"] == "gemini-2.5-flash"
    assert body["responseId"]


def test_unknown_route_is_404_not_found(emulator):
    emu = emulator([])
    conn = _conn(emu)
    response, raw = _post(conn, "/v1beta/models/gemini-2.5-flash:explode", BODY)
    assert response.status == 404
    assert _error(raw)["status"] == "NOT_FOUND"
    conn.request("GET", "/nope")
    response = conn.getresponse()
    assert response.status == 404 and _error(response.read())["code"] == 404


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"{not json", "Invalid JSON payload"),
        ({"contents": []}, "contents is not specified"),
        ({}, "contents is not specified"),
        (
            {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": "many"}},
            "max_output",
        ),
        ({"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": 3}}, "temperature"),
    ],
)
def test_bad_requests_are_400_invalid_argument(emulator, body, needle):
    emu = emulator([Rule(reply="unused")])
    response, raw = _post(_conn(emu), "/v1beta/models/m:generateContent", body)
    assert response.status == 400
    error = _error(raw)
    assert error["status"] == "INVALID_ARGUMENT" and error["code"] == 400
    assert needle in error["message"]


def test_keep_alive_serves_many_requests_on_one_connection(emulator):
    emu = emulator([Rule(reply="ok")])
    conn = _conn(emu)
    sockets = set()
    for path in [
        "/v1beta/models/m:generateContent",
        "/v1beta/models/m:bogus",
        "/v1beta/models/m:countTokens",
    ] * 3:
        response, _ = _post(conn, path, BODY)
        assert response.status in (200, 404)
        assert not response.will_close
        sockets.add(id(conn.sock))
    assert len(sockets) == 1


def test_sse_stream_framing_and_cumulative_usage(emulator):
    text = "one two three four five six seven eight nine ten"
    emu = emulator([Rule(reply=text, thoughts=5)], tokens_per_chunk=3)
    conn = _conn(emu)
    response, raw = _post(conn, "/v1beta/models/m:streamGenerateContent?alt=sse", BODY)

    assert response.status == 200
    assert response.getheader("Content-Type") == "text/event-stream"
    events = raw.decode().split("\r\n\r\n")
    assert events[-1] == ""
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert len(chunks) == 4
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == text
    counts = [c["usageMetadata"].get("candidatesTokenCount", 0) for c in chunks]
    assert counts == sorted(counts) and counts[-1] == 10
    assert all(c["usageMetadata"]["thoughtsTokenCount"] == 5 for c in chunks)
    assert [c["candidates"][0].get("finishReason") for c in chunks] == [None, None, None, "STOP"]
    assert len({c["responseId"] for c in chunks}) == 1
    # the connection is still usable after a chunked stream
    response, _ = _post(conn, "/v1beta/models/m:generateContent", BODY)
    assert response.status == 200


def test_stream_without_sse_is_a_json_array(emulator):
    emu = emulator([Rule(reply="a b c d e f")], tokens_per_chunk=2)
    response, raw = _post(_conn(emu), "/v1beta/models/m:streamGenerateContent", BODY)
    assert response.status == 200
    assert len(json.loads(raw)) == 3


def test_count_tokens_and_model_listing(emulator):
    emu = emulator(
        [Rule(model="gemini-2.5-flash", reply="x"), Rule(model="gemini-*", reply="y")], context_window=999
    )
    conn = _conn(emu)
    response, raw = _post(conn, "/v1beta/models/gemini-2.5-flash:countTokens", BODY)
    assert json.loads(raw)["totalTokens"] == 2
    conn.request("GET", "/v1beta/models")
    models = json.loads(conn.getresponse().read())["models"]
    names = [m["name"] for m in models]  # the strict emulator lists its catalogue and the rules' models
    assert "models/gemini-2.5-flash" in names and "models/gemini-3.8-flash" in names
    conn.request("GET", "/v1beta/models/gemini-x")
    assert json.loads(conn.getresponse().read())["inputTokenLimit"] == 999
    assert emu.requests[0].method == "countTokens"


def test_legacy_response_schema_is_converted(emulator):
    emu = emulator([Rule(reply={"a": "x"})])
    body = {
        **BODY,
        "generationConfig": {
            "responseMimeType": "application/json",
            "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "STRING", "nullable": True}}},
        },
    }
    response, _ = _post(_conn(emu), "/v1beta/models/m:generateContent", body)
    assert response.status == 200
    assert emu.requests[0].json_schema == {
        "type": "object",
        "properties": {"a": {"anyOf": [{"type": "string"}, {"type": "null"}]}},
    }


def test_query_key_and_headers_are_not_recorded(emulator):
    emu = emulator([Rule(reply="ok")])
    _post(
        _conn(emu),
        "/v1beta/models/m:generateContent?key=SECRET-QUERY",
        BODY,
        {"x-goog-api-key": "SECRET-HDR"},
    )
    recorded = repr([vars(r) for r in emu.requests])
    assert "SECRET" not in recorded


def test_backend_crash_is_500_internal(emulator):
    class Broken(ScriptedBackend):
        def generate(self, request):
            raise RuntimeError("kaput")

    with Emulator(Broken([]), models=TEST_MODELS) as emu:
        response, raw = _post(_conn(emu), "/v1beta/models/m:generateContent", BODY)
    assert response.status == 500
    assert _error(raw) == {"code": 500, "message": "RuntimeError: kaput", "status": "INTERNAL"}


def test_stop_closes_idle_keep_alive_connections_and_frees_the_port():
    emu = Emulator(ScriptedBackend([Rule(reply="ok")]), models=TEST_MODELS).start()
    conn = _conn(emu)
    assert _post(conn, "/v1beta/models/m:generateContent", BODY)[0].status == 200
    port = emu.port
    emu.stop()
    emu.stop()  # idempotent
    assert conn.sock.recv(1) == b""  # server side closed the idle connection
    with Emulator(ScriptedBackend([]), port=port, models=TEST_MODELS) as again:  # the port is free to rebind
        assert again.port == port
    with pytest.raises(RuntimeError):
        _ = emu.base_url


def test_context_manager_and_clear():
    with Emulator(ScriptedBackend([Rule(reply="ok")]), models=TEST_MODELS) as emu:
        assert emu.base_url == f"http://127.0.0.1:{emu.port}"
        _post(_conn(emu), "/v1beta/models/m:generateContent", BODY)
        assert len(emu.requests) == 1
        emu.clear()
        assert emu.requests == []


def test_serve_blocks_until_stopped_and_reports_url():
    stop = threading.Event()
    urls: list[str] = []
    ready = threading.Event()

    def on_ready(url: str) -> None:
        urls.append(url)
        ready.set()

    thread = threading.Thread(
        target=serve,
        args=("127.0.0.1", 0, ScriptedBackend([Rule(reply="ok")])),
        kwargs={"on_ready": on_ready, "stop": stop, "models": TEST_MODELS},
    )
    thread.start()
    assert ready.wait(5)
    port = int(urls[0].rsplit(":", 1)[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    response, _ = _post(conn, "/v1beta/models/m:generateContent", BODY)
    assert response.status == 200
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
