"""`--api batch`: the graph runs for every item, its stage calls go out as Gemini Batch API jobs (the emulator's,
through the real langchain-google-genai client and a deferred transport), billed at batch prices."""

from __future__ import annotations

import json

import pytest
from pipeline import DRAFT, TRIAGE, pipeline_rules

from tierwise.batch import run_batch
from tierwise.emulator import BatchSettings
from tierwise.errors import InvalidInputError
from tierwise.ledger import open_ledger
from tierwise.tiers import Usage, load_registry
from tierwise.tiers.pricing import batch_price, price

# These scenarios script LLM triage's answer to choose each request's route; the default strategy would let the
# pre-router decide instead, so they route with LLM triage (a Lite call per request, batched like the rest).
pytestmark = pytest.mark.usefixtures("llm_triage")

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
                        batch_poll_s=(0.02, 0.1))
    assert summary.ok == 5, summary.failures
    lines = {json.loads(line)["id"]: json.loads(line) for line in out.read_text().splitlines()}
    triage3 = [c for c in lines["t3"]["calls"] if c["stage"] == "triage"]
    # a per-request 503, then answered in a later job (the retry may land in the expired job first)
    assert any("503" in (c["error"] or "") for c in triage3) and triage3[-1]["outcome"] == "ok"
    calls = [c for entry in lines.values() for c in entry["calls"]]
    assert any(c["outcome"] == "error" and "EXPIRED" in c["error"] for c in calls)  # the second job expired
    assert len(emulator.batches.created) >= 4  # triage, the expired one, its retries, the rest
    assert all(entry["status"] == "ok" for entry in lines.values())


def test_vertex_is_refused_before_anything_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    with pytest.raises(InvalidInputError, match="Vertex"):
        run_batch(_items(tmp_path / "in.jsonl", 1), tmp_path / "out.jsonl", context={"backend": "vertex"},
                  api="batch", quiet=True)
    assert not (tmp_path / "out.jsonl").exists()


def test_report_shows_the_batch_split(scripted, tmp_path):
    from typer.testing import CliRunner

    from tierwise.cli import app

    _, context = scripted(RULES)
    run_batch(_items(tmp_path / "in.jsonl", 3), tmp_path / "out.jsonl", context=context, api="batch", quiet=True,
              batch_poll_s=(0.02, 0.1))
    shown = CliRunner().invoke(app, ["report"])
    assert shown.exit_code == 0, shown.output
    assert "processing: batch $" in shown.output and "over 9 calls" in shown.output


def test_resume_finds_a_job_created_before_its_name_was_journaled(scripted, tmp_path):
    """Killed between journaling a job and learning its name: the resume finds it by its display name in the job
    list and re-attaches, instead of creating (and paying for) it again."""
    import asyncio

    from google import genai
    from google.genai import types

    from tierwise.batch.jobs import BatchJobs
    from tierwise.runtime import default_runtime

    emulator, context = scripted(RULES)
    journal = tmp_path / "out.jsonl.jobs.jsonl"
    client = genai.Client(api_key="emulator", http_options=types.HttpOptions(base_url=emulator.base_url))
    request = {"contents": [{"role": "user", "parts": [{"text": "Ticket #1: hi"}]}],
               "config": {"system_instruction": TRIAGE}}
    client.batches.create(model="gemini-3.1-flash-lite", src=[request], config={"display_name": "tierwise-r1-00001"})
    journal.write_text(json.dumps({"op": "run", "run": "r1"}) + "\n" + json.dumps(
        {"op": "job", "job": "tierwise-r1-00001", "model": "gemini-3.1-flash-lite", "keys": ["r1-k-0"]}) + "\n")

    async def resume():
        rt = default_runtime()
        jobs = BatchJobs(rt.endpoint_for(context, rt.registry_for(context)), journal, poll_s=(0.02, 0.1))
        await jobs.start(resume=True)
        try:
            for _ in range(200):
                if "r1-k-0" in jobs._results:
                    return jobs.counts, jobs._results["r1-k-0"]
                await asyncio.sleep(0.02)
            raise AssertionError("the re-attached job never answered")
        finally:
            await jobs.close()

    counts, answer = asyncio.run(resume())
    assert counts.reattached == 1 and counts.submitted == 0
    assert answer.status == 200 and b"candidates" in answer.body
    assert emulator.batches.created == ["tierwise-r1-00001"]  # not created a second time
    assert '"op": "created"' in journal.read_text()


def test_requests_beyond_the_inline_limit_go_as_a_jsonl_file(scripted, tmp_path, monkeypatch):
    monkeypatch.setattr("tierwise.batch.jobs.INLINE_LIMIT_BYTES", 1000)  # Google's is 20 MB: force the file path
    emulator, context = scripted(RULES)
    summary = run_batch(_items(tmp_path / "in.jsonl", 4), tmp_path / "out.jsonl", context=context, api="batch",
                        quiet=True, batch_poll_s=(0.02, 0.1))
    assert summary.ok == 4
    jobs = list(emulator.batches.jobs())
    assert len(jobs) == 3 and all("responsesFile" in job["metadata"]["output"] for job in jobs)


def test_cli_refuses_vertex_and_unknown_apis_clearly(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tierwise.cli import app

    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    source = _items(tmp_path / "in.jsonl", 1)
    vertex = CliRunner().invoke(app, ["batch", str(source), "--out", str(tmp_path / "o.jsonl"), "--api", "batch",
                                      "--backend", "vertex"])
    assert vertex.exit_code == 2 and "Vertex AI batch prediction needs Cloud Storage" in vertex.output
    assert "Traceback" not in vertex.output and not (tmp_path / "o.jsonl").exists()
    other = CliRunner().invoke(app, ["batch", str(source), "--out", str(tmp_path / "o.jsonl"), "--api", "fast"])
    assert other.exit_code == 2 and "--api must be standard or batch" in other.output


def test_progress_line_shows_jobs_and_their_states(capsys):
    from tierwise.batch.jobs import JobCounts
    from tierwise.batch.progress import BatchProgress

    counts = JobCounts(submitted=2)
    counts.states.update({"BATCH_STATE_RUNNING": 1, "BATCH_STATE_SUCCEEDED": 1})
    with BatchProgress(10, jobs=counts.describe):
        pass
    assert "jobs: 1 running, 1 succeeded" in capsys.readouterr().err
