"""The ledger: every priced model call persisted (SQLite by default, PostgreSQL for many workers), the spend
guard that enforces the registry's caps through it, and the cost report.

    from tierwise.ledger import SpendGuard, open_ledger
    guard = SpendGuard(open_ledger(), registry)      # or tierwise.Runtime(...).ledgers.guard(registry)
    decision = guard.before_call(registry.stage("draft"), "support-ticket")
    ... call decision.stage_model ...
    guard.after_call(record, decision)

Imports are lazy: the `tierwise` command loads none of this until `tierwise report` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "Ledger": "tierwise.ledger.base",
    "LedgerEntry": "tierwise.ledger.entry",
    "Spend": "tierwise.ledger.periods",
    "LedgerError": "tierwise.ledger.errors",
    "BudgetExceededError": "tierwise.ledger.errors",
    "open_ledger": "tierwise.ledger.url",
    "LedgerPool": "tierwise.ledger.url",
    "resolve_url": "tierwise.ledger.url",
    "default_path": "tierwise.ledger.url",
    "SpendGuard": "tierwise.ledger.guard",
    "BudgetDecision": "tierwise.ledger.guard",
    "ShadowPair": "tierwise.ledger.shadow",
}

__all__ = [
    "BudgetExceededError",
    "BudgetDecision",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "LedgerPool",
    "Spend",
    "ShadowPair",
    "SpendGuard",
    "default_path",
    "open_ledger",
    "resolve_url",
]

if TYPE_CHECKING:
    from .base import Ledger
    from .entry import LedgerEntry
    from .errors import BudgetExceededError, LedgerError
    from .guard import BudgetDecision, SpendGuard
    from .periods import Spend
    from .shadow import ShadowPair
    from .url import LedgerPool, default_path, open_ledger, resolve_url


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
