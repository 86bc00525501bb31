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


def test_the_api_key_leaks_nowhere(scripted, monkeypatch, tmp_path, caplog, capfd):
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
