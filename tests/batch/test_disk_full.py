"""The output's disk fills up in the middle of a batch: no paid result is lost, no line is torn, no new item starts,
and after making room the batch finishes with every item exactly once (the saved items are not run again)."""

from __future__ import annotations

import errno
import json
import os

import pytest
from pipeline import pipeline_rules

from tierwise.batch import run_batch

# These scenarios script LLM triage's answer to choose each request's route; the default strategy would let the
# pre-router decide instead, so they route with LLM triage (a Lite call per request, batched like the rest).
pytestmark = pytest.mark.usefixtures("llm_triage")

ITEMS, FIT = 30, 5  # the disk takes FIT whole lines, then a part of the next one
RULES = pipeline_rules(triage={"intent": "question", "complexity": 1, "confidence": "high"},
                       draft={"answer": "Refund the duplicate charge.", "confidence": "high"},
                       judge={"score": 9, "reason": "Correct."})


def fill_after(monkeypatch, out, lines: int) -> None:
    """os.write to `out` takes `lines` lines, then half of one, then fails with ENOSPC (like a full disk)."""
    real, seen = os.write, {"lines": 0}

    def write(fd, data):
        if not os.readlink(f"/proc/self/fd/{fd}").endswith(out.name):
            return real(fd, data)
        if seen["lines"] < lines:
            seen["lines"] += 1
            return real(fd, data)
        if seen["lines"] == lines:
            seen["lines"] += 1
            return real(fd, data[: len(data) // 2])  # a short write: the rest fails next
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)


def test_a_full_disk_mid_batch_loses_no_paid_result(scripted, tmp_path, monkeypatch):
    emulator, context = scripted(RULES)
    inp, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    inp.write_text("".join(json.dumps({"id": f"t{i}", "input": f"Ticket {i}: charged twice."}) + "\n"
                           for i in range(ITEMS)))
    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as patch:
        fill_after(patch, out, FIT)
        summary = run_batch(inp, out, context=context, concurrency=4, quiet=True, group=False)

    lines = out.read_text().splitlines()
    assert len(lines) == FIT and all(json.loads(line)["status"] == "ok" for line in lines)  # whole lines only
    assert summary.stopped and "No space left on device" in summary.stopped
    assert summary.saved_to is not None and summary.saved_to.exists()
    saved = [json.loads(line) for line in summary.saved_to.read_text().splitlines()]
    assert 1 <= len(saved) <= 4  # the item whose line failed, and those already in flight: nothing new started
    assert summary.ok == FIT + len(saved) and summary.remaining == ITEMS - FIT - len(saved)
    calls_first = len(emulator.requests)

    # Room again: the user appends the saved lines, as the message says, and resumes.
    with out.open("a") as file:
        file.write(summary.saved_to.read_text())
    resumed = run_batch(inp, out, context=context, concurrency=4, quiet=True, group=False, resume=True)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert sorted(ids) == sorted(f"t{i}" for i in range(ITEMS))  # every item exactly once
    assert resumed.skipped == FIT + len(saved) and resumed.ok == ITEMS - FIT - len(saved)
    assert len(emulator.requests) - calls_first == 3 * resumed.ok  # the saved items were not asked again
