"""The hard cap under 64-way concurrency, in threads and across processes, on SQLite and PostgreSQL: it holds
exactly. Each call reserves its worst case against the cap in the same transaction as the check, and settles to
its real cost when recorded, so spend never passes the cap; an attempt that would fit once the calls in flight
settle waits for them, so spend also stops within one call's worst case of the cap rather than far short of it.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from tierwise.budget import BudgetExceededError, SpendGuard
from tierwise.ledger import open_ledger

from .factory import record, registry
from .procs import run_together
from .spend_worker import WORST, hammer

CAP = 3.0
WORKER = Path(__file__).with_name("spend_worker.py")


def check_cap(label: str, url: str, calls: list[dict]) -> None:
    calls = [c for c in calls if not c.get("refused")]
    with open_ledger(url) as ledger:
        stored = ledger.entries()
        spend = ledger.spend()
    spent = sum(c["cost"] for c in calls)
    # No lost and no duplicated rows; the counters equal the rows; nothing is left reserved.
    assert len(stored) == len(calls) == len({c["call_id"] for c in calls})
    assert {e.call_id for e in stored} == {c["call_id"] for c in calls}
    assert spend.day_usd == pytest.approx(spent, abs=1e-9)
    assert spend.reserved_day_usd == 0.0
    overshoot, short = max(0.0, spent - CAP), CAP - spent
    print(f"\n{label}: spent ${spent:.4f} of a ${CAP:.2f} cap in {len(calls)} calls: overshoot ${overshoot:.4f} "
          f"(must be $0), ${short:.4f} short of the cap (at most one call's worst case, ${WORST:.2f})")
    assert spent <= CAP + 1e-9, "the hard cap was overshot"
    assert short <= WORST + 1e-9, "reservations stopped spend further from the cap than one call's worst case"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hard_cap_holds_with_64_threads(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    open_ledger(url).close()  # create the schema before the stampede
    calls = hammer(url, threads=64, hard_daily_usd=CAP, seed=1)
    check_cap(f"{backend}, 64 threads", url, calls)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hard_cap_holds_with_4_processes_of_16_threads(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    open_ledger(url).close()
    options = [json.dumps({"threads": 16, "hard_daily_usd": CAP, "seed": 10 + i}) for i in range(4)]
    outputs = run_together(WORKER, [[url, o] for o in options])
    calls = [json.loads(line) for out in outputs for line in out.splitlines()]
    check_cap(f"{backend}, 4 processes x 16 threads", url, calls)


# The case: a $0.02 cap, 64 requests in flight, each attempt's worst case (its whole max_output_tokens)
# $0.0101, while calls really cost $0.0002-$0.0010; the stage has been seen to need at most $0.0020 worth of output.
SMALL_CAP, SMALL_WORST, SMALL_COSTS, SMALL_LEAST = 0.02, 0.0101, (0.0002, 0.0010), 0.0020


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_cap_utilisation_beside_overshoot(backend, request):
    """Holding every attempt's worst case, spend stops once the next worst case cannot fit: about half the cap.
    Fitting the last attempts' output limit to what is left (down to what the stage is seen to need) gets close to
    the cap, and the cap still holds exactly: a fitted attempt's reservation is its true worst case."""
    measured = {}
    for fit in (False, True):
        url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
        if fit:  # a fresh ledger for the second run
            url = url.replace("ledger.db", "fitted.db") if backend == "sqlite" else request.getfixturevalue("pg_url2")
        open_ledger(url).close()
        rows = hammer(url, threads=64, hard_daily_usd=SMALL_CAP, seed=5, worst=SMALL_WORST, costs=SMALL_COSTS,
                      least=SMALL_LEAST if fit else None)
        calls = [r for r in rows if not r.get("refused")]
        with open_ledger(url) as ledger:
            spend = ledger.spend()
        spent = sum(c["cost"] for c in calls)
        assert spend.day_usd == pytest.approx(spent, abs=1e-9) and spend.reserved_day_usd == 0.0
        assert all(c["cost"] <= c["held"] + 1e-12 for c in calls)  # no call costs more than it held
        measured[fit] = spent
        print(f"\n{backend}, 64 threads, ${SMALL_CAP} cap, worst case ${SMALL_WORST}/attempt, "
              f"{'fitting the output limit near the cap' if fit else 'worst case held in full'}: spent "
              f"${spent:.4f} = {spent / SMALL_CAP:.1%} of the cap in {len(calls)} calls "
              f"({sum(c['held'] < c['worst'] for c in calls)} fitted); overshoot ${max(0.0, spent - SMALL_CAP):.4f}")
        assert spent <= SMALL_CAP + 1e-9, "the hard cap was overshot"
    # Held in full, a call is admitted only while spend + its worst case fits, then adds at most its real cost: it
    # stops at least a worst case minus one call's cost short of the cap.
    assert SMALL_CAP - measured[False] >= SMALL_WORST - SMALL_COSTS[1] - 1e-9
    assert SMALL_CAP - measured[True] <= SMALL_LEAST + 1e-9  # fitted: within the stage's observed need of the cap


def guard_on(url: str, **budget) -> SpendGuard:
    return SpendGuard(open_ledger(url), registry(budget))


def test_a_reservation_counts_until_settled_and_then_only_the_real_cost_does(ledger_url):
    guard = guard_on(ledger_url, hard_daily_usd=1.0)
    held = guard.reserve(0.6, ttl_s=60, deadline=time.monotonic() + 5)
    spend = guard.ledger.spend()
    assert (spend.day_usd, spend.reserved_day_usd) == (0.0, pytest.approx(0.6))
    with pytest.raises(BudgetExceededError):  # would fit only if the call in flight cost nothing: wait, then give up
        guard.reserve(0.6, ttl_s=60, deadline=time.monotonic() + 0.2)
    guard.after_call(record(0.1), reservation_id=held)  # settled to its real cost in the same transaction
    spend = guard.ledger.spend()
    assert (spend.day_usd, spend.reserved_day_usd) == (pytest.approx(0.1), 0.0)
    assert guard.reserve(0.6, ttl_s=60, deadline=time.monotonic() + 5)  # now it fits


def test_a_call_that_cannot_fit_even_after_the_calls_in_flight_is_refused_at_once(ledger_url):
    guard = guard_on(ledger_url, hard_daily_usd=1.0)
    guard.after_call(record(0.7))
    started = time.monotonic()
    with pytest.raises(BudgetExceededError) as refused:
        guard.reserve(0.4, ttl_s=60, deadline=time.monotonic() + 30)
    assert time.monotonic() - started < 5  # no waiting for what cannot help
    assert refused.value.cap == "hard_daily_usd"
    assert "hard daily cap $1.00 would be exceeded: $0.7000 spent today" in str(refused.value)
    assert "may cost up to $0.4000" in str(refused.value)


def test_a_released_reservation_frees_its_share(ledger_url):
    guard = guard_on(ledger_url, hard_monthly_usd=1.0)
    held = guard.reserve(0.9, ttl_s=60, deadline=time.monotonic() + 5)
    guard.release(held)
    assert guard.ledger.spend().reserved_month_usd == 0.0
    guard.reserve(0.9, ttl_s=60, deadline=time.monotonic() + 5)


def test_a_reservation_left_by_a_crashed_process_expires(ledger_url):
    guard = guard_on(ledger_url, hard_daily_usd=1.0)
    guard.ledger.reserve(uuid.uuid4().hex, 0.9, task_type=None, expires_at=time.time() + 0.3, hard_day_usd=1.0,
                         hard_month_usd=None)  # a process took it and died: nobody settles or releases it
    assert guard.ledger.spend().reserved_day_usd == pytest.approx(0.9)
    held = guard.reserve(0.5, ttl_s=60, deadline=time.monotonic() + 10)  # waits until the dead hold expires
    assert held and guard.ledger.spend().reserved_day_usd == pytest.approx(0.5)


def test_reservations_in_flight_drive_the_soft_cap(ledger_url):
    guard = guard_on(ledger_url, daily_usd=1.0)
    guard.after_call(record(0.5))
    judge = guard.registry.stage("judge")
    assert not guard.before_call(judge, worst_usd=0.1).changed
    guard.reserve(0.45, ttl_s=60, deadline=time.monotonic() + 5)  # a call in flight may still cost 0.45
    decision = guard.before_call(judge, worst_usd=0.1)
    assert decision.downgraded and decision.stage_model.tier == "lite"
    assert decision.reason == ("soft daily cap $1.00 would be reached: $0.5000 spent today (UTC), $0.4500 held by "
                               "calls in flight, up to $0.1000 for this call")
