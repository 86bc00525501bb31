"""`--api batch`: the graph runs for every item, its stage calls go out as Gemini Batch API jobs (the emulator's,
through the real langchain-google-genai client and a deferred transport), billed at batch prices."""

from __future__ import annotations

import json

import pytest
from pipeline import DRAFT, TRIAGE, pipeline_rules

from tierwise.batch.runner import run_batch
from tierwise.emulator.batches import BatchSettings
from tierwise.errors import InvalidInputError
from tierwise.ledger import open_ledger
from tierwise.tiers import Usage, load_registry
from tierwise.tiers.pricing import batch_price, price

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
RULES = pipeline_rules(triage=SIMPLE, draft={"answer": "Answer to ticket #$n.", "confidence": "high"},
                       judge={"score": 9, "reason": "Correct."})
for rule in RULES:
    if rule["system"] == DRAFT:
        rule["user"] = r"Ticket #(?P<n>\d+)"


def _items(path, n):
    path.write_text("".join(json.dumps({"id": f"t{i}", "input": f"Ticket #{i}: my card was charged twice."}) + "\n"
                            for i in range(n)))
    return path


def test_items_run_through_a_few_jobs_at_batch_prices(scripted, tmp_path):
    emulator, context = scripted(RULES, batch=BatchSettings(pending_s=0.05, running_s=0.05))
    out = tmp_path / "out.jsonl"
    summary = run_batch(_items(tmp_path / "in.jsonl", 30), out, context=context, api="batch", quiet=True,
                        batch_poll_s=(0.05, 0.2))
    assert summary.ok == 30 and summary.failed == 0
    assert len(emulator.batches.created) == 3  # triage, draft, judge: one job each for all 30 items
    assert summary.jobs.submitted == 3 and summary.jobs.requests == 90
    registry = load_registry()
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    for entry in lines:
        assert entry["answer"] == f"Answer to ticket #{entry['id'][1:]}."
        for call in entry["calls"]:
            assert call["processing"] == "batch"
            usage = Usage(call["input_tokens"], call["output_tokens"], call["thinking_tokens"], call["cached_tokens"])
            model = registry.model(call["model"])
            day = call["started_at"][:10]
            from datetime import date
            on = date.fromisoformat(day)
            assert call["cost_usd"] == pytest.approx(batch_price(call["model"], model, usage, on))
            assert call["cost_usd"] < price(model, usage, on)  # genai-prices' batch rates: below standard
    ledger = open_ledger()
    stored = ledger.entries()
    ledger.close()
    assert len(stored) == 90 and all(e.extra.get("processing") == "batch" for e in stored)


def test_per_request_errors_and_expired_jobs_are_failed_attempts_retried_in_later_jobs(scripted, tmp_path):
    rules = [{"system": TRIAGE, "user": "Ticket #3:", "error": 503, "times": 1}, *RULES]
    emulator, context = scripted(rules, batch=BatchSettings(fates=["succeeded", "expired"]))
    out = tmp_path / "out.jsonl"
    summary = run_batch(_items(tmp_path / "in.jsonl", 5), out, context=context, api="batch", quiet=True,
                        batch_poll_s=(0.02, 0.1), batch_window_s=0.2)
    assert summary.ok == 5, summary.failures
    lines = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines()}
    triage3 = [c for c in lines["t3"]["calls"] if c["stage"] == "triage"]
    assert [c["outcome"] for c in triage3] == ["error", "ok"]  # per-request 503, then answered in the next job
    drafts = [c for entry in lines.values() for c in entry["calls"] if c["stage"] == "draft"]
    assert any(c["outcome"] == "error" and "EXPIRED" in c["error"] for c in drafts)  # the second job expired
    assert all(entry["status"] == "ok" for entry in lines.values())


def test_vertex_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    with pytest.raises(InvalidInputError, match="Vertex"):
        run_batch(_items(tmp_path / "in.jsonl", 1), tmp_path / "out.jsonl", context={"backend": "vertex"},
                  api="batch", quiet=True)
    assert not (tmp_path / "out.jsonl").exists()
