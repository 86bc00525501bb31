"""A canary API key goes through a full pipeline and must appear nowhere: records, ledger, logs, errors, reports,
the emulator's own log."""

from __future__ import annotations

import json
import logging

import pytest
from pipeline import pipeline_rules
from typer.testing import CliRunner

from tierwise import ModelCallError, build_graph, call_stage
from tierwise.cli import app

CANARY = "canary-key-tierwise-0123456789-do-not-leak"


def test_the_api_key_leaks_nowhere(scripted, monkeypatch, tmp_path, caplog, capfd, llm_triage):
    monkeypatch.setenv("GOOGLE_API_KEY", CANARY)  # the key the client sends to the endpoint
    caplog.set_level(logging.DEBUG)
    rules = pipeline_rules(triage={"intent": "question", "complexity": 1, "confidence": "high"},
                           draft={"answer": "ok", "confidence": "high"}, judge={"score": 3, "reason": "weak"})
    rules.insert(0, {"user": "forbidden", "error": {"code": 403, "message": "permission denied for this key"}})
    emulator, context = scripted(rules)

    result = build_graph().invoke({"input": "Was I charged twice?"}, context=context)
    assert result["answer"] and len(result["calls"]) == 4
    with pytest.raises(ModelCallError) as failure:
        call_stage("draft", "forbidden request", context=context)

    report = CliRunner().invoke(app, ["report", "--json"])
    html = tmp_path / "report.html"
    CliRunner().invoke(app, ["report", "--html", str(html)])
    captured = capfd.readouterr()

    places = {
        "records": json.dumps([c.model_dump(mode="json") for c in result["calls"]]),
        "result": repr(result),
        "exception": f"{failure.value!s} {failure.value!r} {failure.value.records!r}",
        "logs": "\n".join(r.getMessage() for r in caplog.records),
        "stdout/stderr": captured.out + captured.err,
        "report": report.output,
        "html report": html.read_text(),
        "ledger file": (tmp_path / "ledger.db").read_bytes().decode("latin-1"),
        "emulator requests": repr(emulator.requests),
    }
    assert report.exit_code == 0 and html.stat().st_size > 0
    assert emulator.requests  # the key really was sent: the requests reached the emulator
    for place, text in places.items():
        assert CANARY not in text, f"the API key leaked into {place}"


# ---- keys stay home: only Google's endpoint or one the operator configured receives the key ------------------------
class Recorder:
    """A Gemini-compatible endpoint on 127.0.0.1 that records what reaches it (method, path, headers, body) and
    forwards the request to the scripted emulator, as an operator's proxy — or a client's server — would."""

    def __init__(self, upstream: str) -> None:
        import http.server
        import threading

        import httpx

        self.seen: list[str] = []
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                recorder.seen.append(f"POST {self.path}\n{self.headers}\n{body.decode('latin-1')}")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                reply = httpx.post(upstream + self.path, content=body, headers=headers, timeout=30)
                self.send_response(reply.status_code)
                self.send_header("content-type", reply.headers.get("content-type", "application/json"))
                self.send_header("content-length", str(len(reply.content)))
                self.end_headers()
                self.wfile.write(reply.content)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def keys(self) -> list[str]:
        return [line.split(":", 1)[1].strip() for request in self.seen for line in request.splitlines()
                if line.lower().startswith("x-goog-api-key:")]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder(scripted):
    emulator, _ = scripted([{"reply": "fine"}])
    started = Recorder(emulator.base_url)
    yield started
    started.close()


def test_a_base_url_from_a_runs_context_never_receives_the_key(recorder, monkeypatch):
    """Issue 13.5: any LangGraph Studio/Server client can put base_url in a run's context; it got the server's key."""
    import asyncio

    from tierwise import acall_stage

    monkeypatch.setenv("GOOGLE_API_KEY", CANARY)
    assert call_stage("draft", "hello", context={"base_url": recorder.url}).value == "fine"  # as LangGraph passes it
    assert asyncio.run(acall_stage("draft", "hello", context={"base_url": recorder.url + "/"})).value == "fine"
    assert len(recorder.seen) == 2
    assert recorder.keys() == ["emulator", "emulator"]  # the placeholder, not the key
    assert all(CANARY not in request for request in recorder.seen)


@pytest.mark.parametrize("how", ["environment", "registry", "cli"])
def test_an_endpoint_the_operator_configured_receives_the_key(recorder, monkeypatch, tmp_path, how):
    """The operator can still put their own proxy in front of Gemini with the real key."""
    monkeypatch.setenv("GOOGLE_API_KEY", CANARY)
    if how == "environment":
        monkeypatch.setenv("TIERWISE_BASE_URL", recorder.url)
    elif how == "registry":
        (tmp_path / "tierwise.toml").write_text(f'[endpoint]\nbase_url = "{recorder.url}"\n')
    if how == "cli":
        ran = CliRunner().invoke(app, ["run", "--base-url", recorder.url, "--json", "Was I charged twice?"])
        assert ran.exit_code == 0, ran.output
        assert CANARY not in ran.output
    else:
        assert call_stage("draft", "hello").value == "fine"  # no base_url in the context: the operator's endpoint
        assert call_stage("draft", "hello", context={"base_url": recorder.url}).value == "fine"  # the same one
    assert recorder.seen and set(recorder.keys()) == {CANARY}


def test_a_context_base_url_other_than_the_operators_gets_the_placeholder(scripted, recorder, monkeypatch):
    emulator, _ = scripted([{"reply": "fine"}])
    monkeypatch.setenv("GOOGLE_API_KEY", CANARY)
    monkeypatch.setenv("TIERWISE_BASE_URL", emulator.base_url)  # the operator trusts this one only
    call_stage("draft", "hello", context={"base_url": recorder.url})
    assert recorder.keys() == ["emulator"]
