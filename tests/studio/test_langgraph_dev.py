"""LangGraph Studio's server, offline: `langgraph dev` serves the graphs of langgraph.json on 127.0.0.1, one run
goes through langgraph_sdk against the scripted emulator, and the schemas Studio shows carry names and
descriptions. Needs `tierwise[studio]` (langgraph-cli[inmem]); skipped, saying so, without it."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pipeline import pipeline_rules

REPO = Path(__file__).resolve().parents[2]
OFFLINE = {"LANGGRAPH_CLI_NO_ANALYTICS": "1", "LANGSMITH_TRACING": "false", "LANGCHAIN_TRACING_V2": "false"}
STARTUP_S = 90

pytest.importorskip("langgraph_api", reason="the Studio test needs tierwise[studio] (langgraph-cli[inmem])")
pytest.importorskip("langgraph_sdk", reason="the Studio test needs langgraph-sdk")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def langgraph_command() -> list[str]:
    exe = Path(sys.executable).with_name("langgraph")
    return [str(exe)] if exe.exists() else [shutil.which("langgraph") or "langgraph"]


@pytest.fixture
def dev_server(tmp_path):
    """`langgraph dev` on a free loopback port, serving the repository's langgraph.json from tmp_path (its graphs
    are module paths, so the server's `.langgraph_api/` state lands there, not in the work tree)."""
    config = json.loads((REPO / "langgraph.json").read_text())
    config["dependencies"] = [str(REPO / d) for d in config["dependencies"]]
    (tmp_path / "langgraph.json").write_text(json.dumps(config))
    log = (tmp_path / "dev.log").open("w+")
    port = free_port()
    proc = subprocess.Popen(
        [*langgraph_command(), "dev", "--host", "127.0.0.1", "--port", str(port), "--no-browser", "--no-reload",
         # No --allow-blocking: the call path keeps file and socket work off the event loop (calls.api.awarm).
         "--config", str(tmp_path / "langgraph.json")],
        cwd=tmp_path, env={**os.environ, **OFFLINE}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        url = wait_until_ready(proc, log, port)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def wait_until_ready(proc, log, port) -> str:
    """The URL once /ok answers. A busy port makes `langgraph dev` pick another: take the one it prints."""
    import httpx

    deadline = time.monotonic() + STARTUP_S
    url = f"http://127.0.0.1:{port}"
    while time.monotonic() < deadline:
        log.seek(0)
        text = log.read()
        if proc.poll() is not None:
            pytest.fail(f"langgraph dev exited with {proc.returncode}:\n{text[-4000:]}")
        if match := re.search(r"API: \S*(http://127\.0\.0\.1:\d+)", text):
            url = match.group(1)
        if "failed to load" in text:
            pytest.fail(f"a graph failed to load:\n{text[-4000:]}")
        try:
            if httpx.get(f"{url}/ok", timeout=1).status_code == 200:
                return url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    log.seek(0)
    pytest.fail(f"langgraph dev did not answer within {STARTUP_S} s:\n{log.read()[-4000:]}")


@pytest.mark.slow
def test_one_run_through_the_sdk_against_the_emulator(dev_server, scripted):
    from langgraph_sdk import get_sync_client

    emulator, _ = scripted(pipeline_rules(
        triage={"intent": "question", "complexity": 1, "confidence": "high"},
        draft={"answer": "Yes: refund the duplicate charge today.", "confidence": "high"},
        judge={"score": 9, "reason": "Correct."}))
    client = get_sync_client(url=dev_server)

    graphs = {a["graph_id"] for a in client.assistants.search(limit=20)}
    assert "tierwise" in graphs
    result = client.runs.wait(None, "tierwise", input={"input": "My card was charged twice. Is this urgent?",
                                                       "task_type": "support-ticket"},
                              context={"base_url": emulator.base_url})
    assert result["answer"] == "Yes: refund the duplicate charge today."
    assert result["route"] == "simple" and result["steps"] == ["triage", "draft", "judge", "respond"]
    llm = result["triage"]["source"] == "llm"  # a triage call only when LLM triage decided (the band)
    assert [c["stage"] for c in result["calls"]] == ["triage"] * llm + ["draft", "judge"]
    assert result["total_cost_usd"] > 0
    assert len(emulator.requests) == len(result["calls"])  # every model call went to the emulator, none elsewhere

    assistant = next(a for a in client.assistants.search(graph_id="tierwise"))
    schemas = client.assistants.get_schemas(assistant["assistant_id"])
    request = schemas["input_schema"]
    assert request["title"] == "Request" and request["properties"]["input"]["description"] == "The request text."
    assert all(field.get("description") for field in request["properties"].values())
    context = schemas["context_schema"]
    assert context["title"] == "Context" and context.get("description")
    assert all(field.get("description") for field in context["properties"].values())
    assert schemas["output_schema"]["properties"]["calls"]["description"] == "Every model call, priced."
