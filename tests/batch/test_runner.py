"""`tierwise batch` end to end against the scripted emulator: failures recorded, bounded concurrency, the stage
cache on retry (no model called or billed twice), a hard spend cap stopping the batch, the command's exits."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from pipeline import REASON, TRIAGE, pipeline_rules
from typer.testing import CliRunner

from tierwise import Context
from tierwise.batch import arun_batch
from tierwise.batch.runner import cache_path
from tierwise.cli import app
from tierwise.emulator import Emulator, Rule, ScriptedBackend
from tierwise.ledger import open_ledger

# These scenarios script LLM triage's answer to choose each request's route; the default strategy would let the
# pre-router decide instead, so they route with LLM triage (a Lite call per request, batched like the rest).
pytestmark = pytest.mark.usefixtures("llm_triage")

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
COMPLEX = {"intent": "analysis", "complexity": 5, "confidence": "high"}
DRAFT_OK = {"answer": "Refund the duplicate charge.", "confidence": "high"}
JUDGE_OK = {"score": 9, "reason": "Correct."}


def rules(*first):
    return [*first, *pipeline_rules(triage=SIMPLE, draft=DRAFT_OK, judge=JUDGE_OK)]


def write_items(path, texts):
    path.write_text("".join(json.dumps({"id": f"t{i}", "input": t}) + "\n" for i, t in enumerate(texts)))
    return path


def read_out(path):
    return {entry["id"]: entry for entry in map(json.loads, path.read_text().splitlines())}


def run(tmp_path, context, **options):
    options.setdefault("quiet", True)
    return asyncio.run(arun_batch(tmp_path / "in.jsonl", tmp_path / "out.jsonl", context=context, **options))


def test_a_failed_item_is_recorded_and_the_batch_goes_on(scripted, tmp_path):
    _, context = scripted(rules({"system": TRIAGE, "user": "doomed", "reply": COMPLEX},
                                {"system": REASON, "user": "doomed", "error": 400}))
    write_items(tmp_path / "in.jsonl", ["ticket one", "a doomed analysis", "ticket three"])
    summary = run(tmp_path, context)
    out = read_out(tmp_path / "out.jsonl")
    assert (summary.ok, summary.failed, summary.remaining) == (2, 1, 0)
    assert out["t1"]["status"] == "failed" and out["t1"]["error"]["stage"] == "reason"
    assert out["t1"]["error"]["kind"] == "bad_request" and out["t1"]["answer"] == ""
    assert [out[k]["status"] for k in ("t0", "t2")] == ["ok", "ok"]
    assert out["t0"]["answer"] == DRAFT_OK["answer"] and out["t0"]["line"] == 1
    assert summary.cost_usd == pytest.approx(sum(e["total_cost_usd"] for e in out.values()))
    assert cache_path(tmp_path / "out.jsonl").exists()  # kept: the failed item may be retried


def test_retrying_a_failed_item_reuses_its_good_stages(scripted, tmp_path):
    emulator, context = scripted(rules({"system": TRIAGE, "user": "doomed", "reply": COMPLEX},
                                       {"system": REASON, "user": "doomed", "error": 400}))
    write_items(tmp_path / "in.jsonl", ["ticket one", "a doomed analysis"])
    paths = tmp_path / "in.jsonl", tmp_path / "out.jsonl"

    async def twice():  # one event loop: the cached Gemini clients' connection pools belong to it
        await arun_batch(*paths, context=context, quiet=True)
        first = read_out(tmp_path / "out.jsonl")["t1"]
        emulator.backend.rules[:] = [Rule.from_dict(r) for r in rules({"system": TRIAGE, "user": "doomed",
                                                                       "reply": COMPLEX})]
        emulator.clear()
        return first, await arun_batch(*paths, context=context, quiet=True, resume=True, retry_failed=True)

    first, summary = asyncio.run(twice())
    assert (summary.skipped, summary.ok, summary.failed) == (1, 1, 0)
    retried = read_out(tmp_path / "out.jsonl")["t1"]
    assert retried["status"] == "ok" and retried["steps"] == ["triage", "reason", "respond"]
    # Only the stage that failed was asked again: triage's good answer came from the stage cache.
    assert [REASON in r.system for r in emulator.requests] == [True]
    assert retried["request_id"] == first["request_id"]
    assert summary.cost_usd == pytest.approx(sum(c["cost_usd"] for c in retried["calls"] if c["stage"] == "reason"))
    triage_call = next(c for c in retried["calls"] if c["stage"] == "triage")
    assert triage_call["call_id"] == next(c for c in first["calls"] if c["stage"] == "triage")["call_id"]
    ledger = open_ledger()
    calls = [e for e in ledger.entries() if e.request_id == first["request_id"]]
    ledger.close()
    assert sum(e.stage == "triage" for e in calls) == 1  # billed once
    assert len({e.call_id for e in calls}) == len(calls)
    assert not cache_path(tmp_path / "out.jsonl").exists()  # all done: the cache is removed


def test_items_with_the_same_text_do_not_share_answers(scripted, tmp_path):
    emulator, context = scripted(rules())
    write_items(tmp_path / "in.jsonl", ["same text", "same text"])
    summary = run(tmp_path, context)
    assert summary.ok == 2 and len(emulator.requests) == 6
    out = read_out(tmp_path / "out.jsonl")
    assert out["t0"]["request_id"] != out["t1"]["request_id"]


class Counting(ScriptedBackend):
    """Tracks how many generate calls run at once."""

    def __init__(self, rules):
        super().__init__(rules)
        self.now = self.peak = 0
        self._gate = threading.Lock()

    def generate(self, request):
        with self._gate:
            self.now += 1
            self.peak = max(self.peak, self.now)
        try:
            return super().generate(request)
        finally:
            with self._gate:
                self.now -= 1


def test_concurrency_is_bounded(tmp_path):
    backend = Counting([{**rule, "delay_ms": 30} for rule in rules()])
    write_items(tmp_path / "in.jsonl", [f"ticket {i}" for i in range(24)])
    with Emulator(backend) as emulator:
        summary = run(tmp_path, Context(base_url=emulator.base_url), concurrency=4)
    assert summary.ok == 24
    assert 2 <= backend.peak <= 4


def test_a_hard_spend_cap_stops_the_batch(scripted, tmp_path, monkeypatch):
    registry = tmp_path / "caps.toml"
    registry.write_text("[budget]\nhard_daily_usd = 0.0000001\n")
    monkeypatch.setenv("TIERWISE_REGISTRY", str(registry))
    _, context = scripted(rules())
    write_items(tmp_path / "in.jsonl", [f"ticket {i}" for i in range(5)])
    summary = run(tmp_path, context, concurrency=1)
    out = read_out(tmp_path / "out.jsonl")
    assert summary.stopped and "hard daily cap" in summary.stopped
    assert len(out) == 1 and summary.remaining == 4
    (entry,) = out.values()
    assert entry["status"] == "failed" and entry["error"]["kind"] == "budget"


def test_the_command(scripted, tmp_path):
    _, context = scripted(rules())
    inp = write_items(tmp_path / "in.jsonl", ["ticket one", "ticket two"])
    out = tmp_path / "out.jsonl"
    cli = CliRunner()
    args = ["batch", str(inp), "--out", str(out), "--base-url", context.base_url, "-j", "2"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "2 ok, 0 failed of 2" in result.output and len(out.read_text().splitlines()) == 2
    again = cli.invoke(app, args)
    assert again.exit_code == 2 and "--resume" in again.output
    resumed = cli.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0 and "2 already done" in resumed.output
    assert cli.invoke(app, [*args, "--retry-failed"]).exit_code == 2
    (tmp_path / "bad.jsonl").write_text('{"input": ""}\n')
    bad = cli.invoke(app, ["batch", str(tmp_path / "bad.jsonl"), "--out", str(out), "--overwrite"])
    assert bad.exit_code == 2 and "bad.jsonl:1:" in bad.output
    assert len(out.read_text().splitlines()) == 2  # a bad input runs nothing and touches nothing
