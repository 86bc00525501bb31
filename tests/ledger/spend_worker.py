"""Many concurrent "model calls" through the spend guard's reservations until a hard cap refuses them.

Imported by the tests (threads in this process) and run as a script (one more process):

    python spend_worker.py LEDGER_URL '{"threads": 16, "hard_daily_usd": 3.0, "seed": 1}'

prints "ready" once its ledger is open, starts when a line arrives on stdin, then prints one JSON line per
call made: {"call_id", "cost", "worst" (what it reserved)}. Each call: reserve its worst case (0.05) → simulated
call (2-20 ms) costing 0.01-0.05 → record, settling the reservation — the same steps the ledger hook takes.
"""

from __future__ import annotations

import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

from tierwise.budget import BudgetExceededError, SpendGuard
from tierwise.ledger import open_ledger
from tierwise.state import CallRecord
from tierwise.tiers import build_registry

WORST = 0.05  # every call's worst case: the most it can cost
TTL_S = 60.0


def wait_for_go() -> None:
    """Tell the parent this process is set up, and wait for its signal so every process starts together."""
    print("ready", flush=True)
    sys.stdin.readline()


def hammer(url: str, *, threads: int, hard_daily_usd: float | None = None, seed: int,
           ready: Callable[[], None] | None = None, stage: str = "draft", per_label: dict | None = None,
           tenants: list[dict] | None = None, worst: float = WORST, costs: tuple[float, float] = (0.01, WORST),
           least: float | None = None) -> list[dict]:
    """`threads` workers loop: check → reserve the worst case → simulated call → record, until the guard refuses.
    `per_label`: the registry's [budget.per_label]; `tenants`: worker n's request labels are tenants[n % len].
    A call costs uniformly within `costs`, but never more than what it holds: `least` lets a reservation near the
    cap hold less than `worst` (the call path then lowers the attempt's output limit to match, so it cannot cost
    more); None: every call holds its whole worst case, as with [budget] fit_output_near_cap = false."""
    budget: dict = {"per_label": per_label} if per_label else {}
    if hard_daily_usd is not None:
        budget["hard_daily_usd"] = hard_daily_usd
    registry = build_registry(overrides={"budget": budget}, env={})
    ledger = open_ledger(url)
    guard = SpendGuard(ledger, registry)
    results: list[dict] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)

    def worker(n: int) -> None:
        rng = random.Random(seed * 1000 + n)
        labels = tenants[n % len(tenants)] if tenants else {}
        mine = guard.tenants_of(labels)
        barrier.wait()
        while True:
            try:
                decision = guard.before_call(registry.stage(stage), worst_usd=worst, tenants=mine)
                held, amount = guard.reserve_within(worst, least, ttl_s=TTL_S, deadline=time.monotonic() + 60,
                                                    tenants=mine)
            except BudgetExceededError:
                with lock:
                    results.append({"refused": True, **labels})
                return
            cost = min(round(rng.uniform(*costs), 6), amount)
            time.sleep(rng.uniform(0.002, 0.02))
            rec = CallRecord(call_id=uuid.uuid4().hex, stage=stage, tier=decision.stage_model.tier,
                             model=decision.stage_model.model_id, cost_usd=cost, started_at=datetime.now(UTC))
            guard.after_call(rec, decision, reservation_id=held, labels=labels, tenants=mine)
            with lock:
                results.append({"call_id": rec.call_id, "cost": cost, "worst": worst, "held": amount, **labels})

    if ready is not None:
        ready()
    pool = [threading.Thread(target=worker, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    ledger.close()
    return results


if __name__ == "__main__":
    options = json.loads(sys.argv[2])
    for row in hammer(sys.argv[1], **options, ready=wait_for_go):
        print(json.dumps(row))
