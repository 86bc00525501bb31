"""The spend guards one Runtime keeps: one per registry and ledger, on the ledgers of its LedgerPool.

A guard is cheap to build, but it remembers what it has read (a stage's observed output sizes), so the ledger hook,
shadow traffic and an application's own code asking for "the guard of this registry" get the same one.
"""

from __future__ import annotations

import threading
from typing import Any

from tierwise.ledger import LedgerPool
from tierwise.tiers import Registry

from .guard import SpendGuard

_KEEP = 64  # registries reloaded after edits leave old keys behind


class SpendGuards:
    """The SpendGuards on the ledgers of `pool`, per registry (kept while the registry object is)."""

    def __init__(self, pool: LedgerPool) -> None:
        self.pool = pool
        self._guards: dict[tuple[Any, ...], tuple[Registry, SpendGuard]] = {}
        self._lock = threading.Lock()

    def get(self, registry: Registry, *, stand_in: bool = False) -> SpendGuard:
        """The guard on the ledger calls under `registry` record into (stand-ins: their own, unless one was named)."""
        pool = self.pool
        # Asked twice a call: the key holds what the URL depends on, so resolving it again is skipped.
        fast = (id(registry), stand_in, pool.env.get("TIERWISE_LEDGER_URL"), pool.env.get("XDG_DATA_HOME"))
        kept = self._guards.get(fast)
        if kept is not None and kept[0] is registry:
            return kept[1]
        url = pool.resolve(registry, stand_in=stand_in)
        key = (id(registry), url)
        kept = self._guards.get(key)
        if kept is not None and kept[0] is registry:
            return kept[1]
        guard = SpendGuard(pool.ledger(url), registry)
        with self._lock:
            if len(self._guards) >= _KEEP:
                self._guards.clear()
            self._guards[key] = self._guards[fast] = (registry, guard)
        return guard


def spend_guards(pool: LedgerPool) -> SpendGuards:
    """The guards kept with `pool` (a Runtime's `ledgers`): one set per runtime."""
    return pool.kept(SpendGuards, lambda: SpendGuards(pool))


def spend_guard(pool: LedgerPool, registry: Registry, *, stand_in: bool = False) -> SpendGuard:
    """The SpendGuard on the ledger calls under `registry` record into, e.g. `spend_guard(rt.ledgers, registry)`."""
    return spend_guards(pool).get(registry, stand_in=stand_in)
