"""kill -9 in the middle of a Batch API run, then --resume: every item once, no job submitted twice, every request
billed once at batch prices. The emulator runs in this process and outlives the killed `tierwise batch`, as
Google's jobs outlive a crashed client."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date

import pytest
from pipeline import DRAFT, JUDGE, TRIAGE, pipeline_rules

from tierwise.emulator import BatchSettings, Emulator, ScriptedBackend
from tierwise.ledger import open_ledger
from tierwise.tiers import Usage, load_registry
from tierwise.tiers.pricing import batch_price

# These scenarios script LLM triage's answer to choose each request's route; the default strategy would let the
# pre-router decide instead, so they route with LLM triage (a Lite call per request, batched like the rest).
pytestmark = pytest.mark.usefixtures("llm_triage")

ITEMS = 40
SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
RULES = pipeline_rules(triage=SIMPLE, draft={"answer": "Answer to ticket #$n.", "confidence": "high"},
                       judge={"score": 9, "reason": "Correct."})
for rule in RULES:
    if rule["system"] == DRAFT:
        rule["user"] = r"Ticket #(?P<n>\d+)"
STAGE = {TRIAGE: "triage", DRAFT: "draft", JUDGE: "judge"}


def batch(inp, out, base_url, *extra):
    return subprocess.Popen([sys.executable, "-m", "tierwise.cli", "batch", str(inp), "--out", str(out),
                             "--base-url", base_url, "--api", "batch", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def asked(requests):
    """(item number, stage) of each request the emulator's jobs answered."""
    return [(int(re.search(r"Ticket #(\d+)", r.user).group(1)), next(n for k, n in STAGE.items() if k in r.system))
            for r in requests]


@pytest.mark.parametrize("kill_after_jobs", [1, 2])
def test_kill_9_mid_batch_api_run_then_resume(tmp_path, kill_after_jobs):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps({"id": f"t{i}", "input": f"Ticket #{i}: my card was charged twice."}) + "\n"
                           for i in range(ITEMS)))
    with Emulator(ScriptedBackend(RULES), batch=BatchSettings(pending_s=0.5, running_s=0.5)) as emulator:
        first = batch(inp, out, emulator.base_url)
        deadline = time.monotonic() + 60
        while len(emulator.batches.created) < kill_after_jobs and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.005)
        os.kill(first.pid, signal.SIGKILL)  # a job was just created, and is still pending at the emulator
        first.wait()
        created_before = list(emulator.batches.created)

        second = batch(inp, out, emulator.base_url, "--resume")
        _, stderr = second.communicate(timeout=120)
        assert second.returncode == 0, stderr
        assert "re-attached" in stderr
        created, requests = emulator.batches.created, emulator.requests

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert sorted(entry["id"] for entry in lines) == sorted(f"t{i}" for i in range(ITEMS))  # each item once
    assert all(entry["status"] == "ok" for entry in lines)
    for entry in lines:
        assert entry["answer"] == f"Answer to ticket #{entry['id'][1:]}."

    assert len(created) == len(set(created)) == 3  # triage, draft, judge: no job submitted twice
    assert created[:len(created_before)] == created_before  # the resumed run re-attached, created only the rest
    every = Counter(asked(requests))
    assert len(every) == 3 * ITEMS and set(every.values()) == {1}  # each request answered (and billed) once

    ledger = open_ledger()
    stored = ledger.entries()
    ledger.close()
    assert len(stored) == 3 * ITEMS == len({e.call_id for e in stored})  # each request in the ledger once
    registry = load_registry()
    for e in stored:
        assert e.extra.get("processing") == "batch"
        usage = Usage(e.input_tokens, e.output_tokens, e.thinking_tokens, e.cached_tokens)
        assert e.cost_usd == pytest.approx(batch_price(e.model, registry.model(e.model), usage,
                                                       date.fromisoformat(e.started_at.date().isoformat())))
    billed = {c["call_id"] for entry in lines for c in entry["calls"]}
    assert billed <= {e.call_id for e in stored}


def test_ctrl_c_leaves_jobs_running_and_says_how_to_resume(tmp_path):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps({"id": f"t{i}", "input": f"Ticket #{i}: my card was charged twice."}) + "\n"
                           for i in range(5)))
    with Emulator(ScriptedBackend(RULES), batch=BatchSettings(pending_s=60)) as emulator:
        first = batch(inp, out, emulator.base_url)
        deadline = time.monotonic() + 60
        while not emulator.batches.created and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.01)
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=60)
        assert first.returncode == 130, stderr
        assert "keep running" in stderr and "--resume" in stderr and "Traceback" not in stderr
        (job,) = emulator.batches.jobs()
        assert job["metadata"]["state"] == "BATCH_STATE_PENDING"  # not cancelled: it is still working for us

        emulator.batches.settings.pending_s = 0
        second = batch(inp, out, emulator.base_url, "--resume")
        _, stderr = second.communicate(timeout=120)
        assert second.returncode == 0, stderr
        assert len(emulator.batches.created) == 3  # the triage job re-attached, then draft and judge
    assert len(out.read_text().splitlines()) == 5
