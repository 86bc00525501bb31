"""The hard cap under 64-way concurrency, in threads and across processes, on SQLite and PostgreSQL.

A call's cost is known only when it returns, so calls admitted before the cap was reached still land after
it. The claim measured here: the overshoot past the cap is at most the cost of the calls in flight when it was
reached — the call whose record crossed the cap and every call recorded after it. Every `after` value is read
in the recording transaction, so the values order the records exactly as the database committed them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tierwise.ledger import open_ledger

from .procs import run_together
from .spend_worker import hammer

CAP = 3.0
WORKER = Path(__file__).with_name("spend_worker.py")


def check_overshoot(label: str, url: str, calls: list[dict], workers: int) -> None:
    with open_ledger(url) as ledger:
        stored = ledger.entries()
        counted = ledger.spend().day_usd
    spent = sum(c["cost"] for c in calls)
    # No lost and no duplicated rows; the counters equal the rows.
    assert len(stored) == len(calls) == len({c["call_id"] for c in calls})
    assert {e.call_id for e in stored} == {c["call_id"] for c in calls}
    assert counted == pytest.approx(spent, abs=1e-9)
    # Every admitted call was admitted on a spend below the cap; afterwards the cap was reached.
    assert max(c["seen"] for c in calls) < CAP <= spent
    afters = sorted(c["after"] for c in calls)
    assert all(a < b for a, b in zip(afters, afters[1:], strict=False)), "records were not serialized"
    crossing = min(a for a in afters if a >= CAP)
    in_flight = [c for c in calls if c["after"] >= crossing]
    in_flight_cost = sum(c["cost"] for c in in_flight)
    overshoot = spent - CAP
    print(f"\n{label}: cap ${CAP:.2f}, {workers} workers, {len(calls)} calls, spent ${spent:.4f}: "
          f"overshoot ${overshoot:.4f} <= in flight at the cap ${in_flight_cost:.4f} ({len(in_flight)} calls)")
    assert overshoot <= in_flight_cost + 1e-9
    assert len(in_flight) <= workers


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hard_cap_with_64_threads(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    open_ledger(url).close()  # create the schema before the stampede
    calls = hammer(url, threads=64, hard_daily_usd=CAP, seed=1)
    check_overshoot(f"{backend}, 64 threads", url, calls, 64)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hard_cap_with_4_processes_of_16_threads(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    open_ledger(url).close()
    options = [json.dumps({"threads": 16, "hard_daily_usd": CAP, "seed": 10 + i}) for i in range(4)]
    outputs = run_together(WORKER, [[url, o] for o in options])
    calls = [json.loads(line) for out in outputs for line in out.splitlines()]
    check_overshoot(f"{backend}, 4 processes x 16 threads", url, calls, 64)
