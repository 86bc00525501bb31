"""Budget enforcement: the registry's caps (daily, monthly, per task type, per tenant label) enforced through the
ledger — a soft cap moves a non-critical stage to a cheaper tier, a hard cap reserves each attempt's worst case
and refuses what cannot fit. The ledger (tierwise.ledger) stores the records and counters this package reads.

    from tierwise.budget import spend_guard
    guard = spend_guard(rt.ledgers, registry)          # or SpendGuard(open_ledger(url), registry)
    decision = guard.before_call(registry.stage("draft"), "support-ticket")
    ... call decision.stage_model ...
    guard.after_call(record, decision)

Imports are lazy: the `tierwise` command loads none of this until a call needs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "BudgetDecision": "tierwise.budget.guard",
    "BudgetExceededError": "tierwise.errors",
    "LedgerHook": "tierwise.budget.hook",
    "SpendGuard": "tierwise.budget.guard",
    "SpendGuards": "tierwise.budget.guards",
    "spend_guard": "tierwise.budget.guards",
    "spend_guards": "tierwise.budget.guards",
}

__all__ = ["BudgetDecision", "BudgetExceededError", "LedgerHook", "SpendGuard", "SpendGuards", "spend_guard",
           "spend_guards"]

if TYPE_CHECKING:
    from tierwise.errors import BudgetExceededError

    from .guard import BudgetDecision, SpendGuard
    from .guards import SpendGuards, spend_guard, spend_guards
    from .hook import LedgerHook


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
