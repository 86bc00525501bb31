"""Budgets per tenant ([budget.per_label.KEY]): each value of a request label has its own hard and soft caps. The
hard caps hold per tenant exactly as the global one does (reserved in the same transaction as the check, settled to
the real cost), in threads and across processes, on SQLite and PostgreSQL; a tenant at its cap never blocks
another; its refusals are counted for `tierwise report --by label:KEY`."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from pathlib import Path

import pytest

from tierwise.budget import BudgetExceededError, SpendGuard
from tierwise.errors import TierwiseError
from tierwise.ledger import open_ledger

from .factory import record, registry
from .procs import run_together
from .spend_worker import WORST, hammer

WORKER = Path(__file__).with_name("spend_worker.py")
# alice: the label's default cap; bob: his own override, twice as much.
PER_LABEL = {"user": {"hard_daily_usd": 0.6, "overrides": {"bob": {"hard_daily_usd": 1.2}}}}
CAPS = {"alice": 0.6, "bob": 1.2}
TENANTS = [{"user": "alice"}, {"user": "bob"}]


def check_tenants(label: str, url: str, rows: list[dict]) -> None:
    calls = [r for r in rows if not r.get("refused")]
    with open_ledger(url) as ledger:
        stored = {e.call_id: e for e in ledger.entries()}
        held = ledger.tenant_spend([f"label:user={user}" for user in CAPS])
        totals = ledger.label_totals("user")
    assert set(stored) == {c["call_id"] for c in calls} and len(stored) == len(calls)
    spent = defaultdict(float)
    for c in calls:
        spent[c["user"]] += c["cost"]
        assert stored[c["call_id"]].tenants == {"user": c["user"]} == stored[c["call_id"]].labels
    for user, cap in CAPS.items():
        counted = held[f"label:user={user}"]
        assert counted.day_usd == pytest.approx(spent[user], abs=1e-9)  # the counter is the sum of its rows
        assert counted.reserved_day_usd == 0.0
        overshoot, short = max(0.0, spent[user] - cap), cap - spent[user]
        print(f"\n{label}: {user} spent ${spent[user]:.4f} of a ${cap:.2f} cap: overshoot ${overshoot:.4f} (must be "
              f"$0), utilisation {spent[user] / cap:.1%}")
        assert spent[user] <= cap + 1e-9, f"{user}'s hard cap was overshot"
        assert short <= WORST + 1e-9, f"{user} stopped further from the cap than one call's worst case"
        refused = sum(1 for r in rows if r.get("refused") and r["user"] == user)
        assert totals[user]["refused_today"] == refused and totals[user]["day_usd"] == pytest.approx(spent[user])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_tenants_under_64_threads_each_stay_within_their_own_cap(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    open_ledger(url).close()
    rows = hammer(url, threads=64, seed=3, per_label=PER_LABEL, tenants=TENANTS)
    check_tenants(f"{backend}, 64 threads, 2 tenants", url, rows)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_two_tenants_across_4_processes(backend, request):
    url = request.getfixturevalue("sqlite_url" if backend == "sqlite" else "pg_url")
    open_ledger(url).close()
    options = [json.dumps({"threads": 8, "seed": 20 + i, "per_label": PER_LABEL, "tenants": TENANTS})
               for i in range(4)]
    outputs = run_together(WORKER, [[url, o] for o in options])
    rows = [json.loads(line) for out in outputs for line in out.splitlines()]
    check_tenants(f"{backend}, 4 processes x 8 threads, 2 tenants", url, rows)


def guard_on(url: str, **budget) -> SpendGuard:
    return SpendGuard(open_ledger(url), registry(budget))


def test_a_tenant_at_its_cap_does_not_block_another(ledger_url):
    guard = guard_on(ledger_url, per_label=PER_LABEL)
    alice, bob = guard.tenants_of({"user": "alice"}), guard.tenants_of({"user": "bob", "team": "x"})
    assert bob == {"user": "bob"}  # only budgeted labels are tenants
    guard.after_call(record(0.6), tenants=alice)  # alice is at her cap
    judge = guard.registry.stage("judge")
    with pytest.raises(BudgetExceededError) as refused:
        guard.before_call(judge, tenants=alice)
    assert refused.value.cap == "budget.per_label.user.hard_daily_usd" and refused.value.limit_usd == 0.6
    assert "hard daily cap $0.6000 for user 'alice' reached: $0.6000 spent today" in str(refused.value)
    started = time.monotonic()
    with pytest.raises(BudgetExceededError):  # cannot fit even if nothing were in flight: refused at once
        guard.reserve(0.01, ttl_s=60, deadline=time.monotonic() + 30, tenants=alice)
    assert time.monotonic() - started < 5
    for _ in range(10):  # bob spends on, unaffected by alice's cap (and nothing global caps him)
        assert not guard.before_call(judge, worst_usd=0.05, tenants=bob).changed
        held = guard.reserve(0.05, ttl_s=60, deadline=time.monotonic() + 1, tenants=bob)
        guard.after_call(record(0.05), reservation_id=held, tenants=bob)
    totals = guard.ledger.label_totals("user")
    assert totals["bob"]["day_usd"] == pytest.approx(0.5) and totals["bob"]["refused_today"] == 0
    assert totals["alice"]["refused_today"] == 2 and totals["alice"]["day_usd"] == pytest.approx(0.6)
    assert guard.ledger.spend().day_usd == pytest.approx(1.1)  # the global counters count both


def test_a_tenant_waits_only_for_its_own_calls_in_flight(ledger_url):
    guard = guard_on(ledger_url, per_label=PER_LABEL)
    alice, bob = {"user": "alice"}, {"user": "bob"}
    held = guard.reserve(0.5, ttl_s=60, deadline=time.monotonic() + 5, tenants=alice)
    # bob's hold is not alice's: he is admitted at once although alice's call in flight holds most of her cap
    guard.reserve(0.5, ttl_s=60, deadline=time.monotonic() + 0.01, tenants=bob)
    with pytest.raises(BudgetExceededError) as refused:  # alice's next one would fit once hers settles: it waits
        guard.reserve(0.2, ttl_s=60, deadline=time.monotonic() + 0.2, tenants=alice)
    assert "did not finish within the stage's time budget" in str(refused.value)
    guard.after_call(record(0.1), reservation_id=held, tenants=alice)
    guard.reserve(0.2, ttl_s=60, deadline=time.monotonic() + 5, tenants=alice)  # settled: it fits now


def test_a_tenants_soft_cap_steps_only_that_tenant_down(ledger_url):
    guard = guard_on(ledger_url, per_label={"team": {"daily_usd": 0.3}})
    guard.after_call(record(0.3), tenants={"team": "support"})
    judge = guard.registry.stage("judge")
    decision = guard.before_call(judge, worst_usd=0.01, tenants={"team": "support"})
    assert decision.downgraded and decision.stage_model.tier == "lite"
    assert decision.reason == "soft daily cap $0.3000 for team 'support' reached: $0.3000 spent today (UTC)"
    assert not guard.before_call(judge, worst_usd=0.01, tenants={"team": "sales"}).changed
    critical = guard.registry.stage("polish")  # a critical stage is never touched, as with the global soft cap
    assert not guard.before_call(critical, worst_usd=0.01, tenants={"team": "support"}).changed


def test_per_label_budgets_are_checked_when_the_registry_loads():
    with pytest.raises(TierwiseError, match="per_label"):
        registry({"per_label": {"User": {"hard_daily_usd": 1.0}}})
    with pytest.raises(TierwiseError, match="hard_daily_usd"):
        registry({"per_label": {"user": {"hard_daily_usd": -1.0}}})
    with pytest.raises(TierwiseError, match="typo"):
        registry({"per_label": {"user": {"typo": 1.0}}})
    caps = registry({"per_label": PER_LABEL}).data.budget.per_label["user"]
    assert caps.caps_for("bob").hard_daily_usd == 1.2 and caps.caps_for("carol").hard_daily_usd == 0.6
