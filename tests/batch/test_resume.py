"""kill -9 in the middle of a batch, resume, compare: no item lost, none run twice.

"Run twice" precisely: an item with a line in the output after the first run causes no model call in the
second; an item in flight at the kill runs again, but only its stages that had no cached good answer are asked
again — at most two per worker (the call in flight, and one answered but not yet in the cache). A call in
flight at the kill reached the endpoint (and would be billed) but never the ledger: at most one per worker.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from pipeline import DRAFT, JUDGE, TRIAGE, pipeline_rules

from tierwise.emulator import Emulator, ScriptedBackend
from tierwise.ledger import open_ledger

# These scenarios script LLM triage's answer to choose each request's route; the default strategy would let the
# pre-router decide instead, so they route with LLM triage (a Lite call per request, batched like the rest).
pytestmark = pytest.mark.usefixtures("llm_triage")

ITEMS, CONCURRENCY = 40, 4
SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
RULES = [{**rule, "delay_ms": 40} for rule in pipeline_rules(
    triage=SIMPLE, draft={"answer": "Answer to ticket #$n.", "confidence": "high"},
    judge={"score": 9, "reason": "Correct."})]
for rule in RULES:
    if rule["system"] == DRAFT:
        rule["user"] = r"Ticket #(?P<n>\d+)"
STAGE = {TRIAGE: "triage", DRAFT: "draft", JUDGE: "judge"}


def batch(inp, out, base_url, *extra):
    return subprocess.Popen([sys.executable, "-m", "tierwise.cli", "batch", str(inp), "--out", str(out),
                             "--base-url", base_url, "-j", str(CONCURRENCY), "--quiet", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def asked(requests):
    """(item number, stage) of each model request the emulator got."""
    pairs = []
    for request in requests:
        stage = next(name for key, name in STAGE.items() if key in request.system)
        pairs.append((int(re.search(r"Ticket #(\d+)", request.user).group(1)), stage))
    return pairs


def test_kill_9_mid_batch_then_resume(tmp_path):
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps({"id": f"t{i}", "input": f"Ticket #{i}: my card was charged twice."}) + "\n"
                           for i in range(ITEMS)))
    with Emulator(ScriptedBackend(RULES)) as emulator:
        first = batch(inp, out, emulator.base_url)
        deadline = time.monotonic() + 60
        while (not out.exists() or len(out.read_text().splitlines()) < 10) and time.monotonic() < deadline:
            assert first.poll() is None, first.communicate()
            time.sleep(0.01)
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
        before_kill = len(emulator.requests)
        done_first = {json.loads(line)["id"] for line in out.read_text().splitlines() if line.endswith("}")}
        assert 10 <= len(done_first) < ITEMS

        second = batch(inp, out, emulator.base_url, "--resume")
        stdout, stderr = second.communicate(timeout=120)
        assert second.returncode == 0, stderr
        requests = emulator.requests

    lines = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [entry["id"] for entry in lines]
    assert sorted(ids) == sorted(f"t{i}" for i in range(ITEMS))  # none lost, none written twice
    assert all(entry["status"] == "ok" for entry in lines)
    for entry in lines:
        assert entry["answer"] == f"Answer to ticket #{entry['id'][1:]}."
        assert [c["stage"] for c in entry["calls"]] == ["triage", "draft", "judge"]

    resumed = asked(requests[before_kill:])
    assert not [pair for pair in resumed if f"t{pair[0]}" in done_first]  # finished items: not called again
    every = Counter(asked(requests))
    again = sum(n - 1 for n in every.values())
    assert all(n <= 2 for n in every.values())
    assert again <= 2 * CONCURRENCY, f"{again} stage calls were made twice"
    assert len(every) == 3 * ITEMS  # every stage of every item answered

    ledger = open_ledger()
    stored = ledger.entries()
    ledger.close()
    assert len({e.call_id for e in stored}) == len(stored)
    # Calls in flight at the kill reached the endpoint but not the ledger: at most one per worker.
    assert len(requests) - len(stored) <= CONCURRENCY
    # Every call an output line reports was billed, once.
    assert {c["call_id"] for entry in lines for c in entry["calls"]} <= {e.call_id for e in stored}
