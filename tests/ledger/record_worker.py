"""Write call ids [first, first+count) to a ledger from `threads` threads; run by the tests as a process.

    python record_worker.py LEDGER_URL FIRST COUNT THREADS

It prints "ready" once its ledger is open and starts when a line arrives on stdin. Each id costs (id % 7 + 1)
cents, so any set of ids has a known total. Prints how many writes were new.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from tierwise.ledger import LedgerEntry, open_ledger
from tierwise.state import CallRecord

DAY = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def cost(i: int) -> float:
    return (i % 7 + 1) / 100


def write(url: str, ids: list[int], threads: int, ready: Callable[[], None] | None = None) -> int:
    ledger = open_ledger(url)
    new = []
    lock = threading.Lock()

    def worker(mine: list[int]) -> None:
        for i in mine:
            rec = CallRecord(call_id=f"call-{i}", stage="draft", tier="lite", model="m", cost_usd=cost(i),
                             task_type="t" if i % 2 else None, started_at=DAY)
            inserted = ledger.record(LedgerEntry.from_record(rec)).inserted
            with lock:
                new.append(inserted)

    if ready is not None:
        ready()
    pool = [threading.Thread(target=worker, args=(ids[n::threads],)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    ledger.close()
    return sum(new)


if __name__ == "__main__":
    from spend_worker import wait_for_go

    url, first, count, threads = sys.argv[1], *map(int, sys.argv[2:5])
    print(write(url, list(range(first, first + count)), threads, wait_for_go))
