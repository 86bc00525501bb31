"""No lost and no duplicated rows under 64 threads and several processes, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise.ledger import open_ledger

from .procs import run_together
from .record_worker import DAY, cost, write

WORKER = Path(__file__).with_name("record_worker.py")


def check(url: str, ids: set[int], new_writes: int) -> None:
    with open_ledger(url) as ledger:
        stored = ledger.entries()
        spend = ledger.spend(DAY, "t")
    assert sorted(e.call_id for e in stored) == sorted(f"call-{i}" for i in ids)
    assert new_writes == len(ids)  # each id was reported new exactly once
    assert spend.day_usd == pytest.approx(sum(cost(i) for i in ids), abs=1e-9)
    assert spend.task_day_usd == pytest.approx(sum(cost(i) for i in ids if i % 2), abs=1e-9)


def test_64_threads_each_id_written_three_times(ledger_url):
    ids = list(range(400))
    new = write(ledger_url, ids * 3, threads=64)
    check(ledger_url, set(ids), new)


def test_processes_with_overlapping_ids(ledger_url):
    open_ledger(ledger_url).close()
    # Three processes of 16 threads: ids 0-299, 100-399, 200-499 — every id in 200-299 is written thrice.
    outputs = run_together(WORKER, [[ledger_url, str(first), "300", "16"] for first in (0, 100, 200)])
    check(ledger_url, set(range(500)), sum(int(out) for out in outputs))
