"""The spend guard: before a model call, read the committed spend and decide; after it, record the call.

- a soft cap reached (daily, monthly, or a task type's daily): a non-critical stage runs on the cheapest tier
  (and/or a cheaper service tier); a critical stage is never touched;
- a hard cap reached: no new call, `BudgetExceededError` naming the cap.

The counters live in the ledger's database and move in the same transaction as the stored record (see
`sql.py`), so every process sharing the ledger sees one spend. A call's cost is only known after it returns,
so the overshoot past a cap is bounded by the calls already in flight when it was reached.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tierwise.tiers import Registry, StageModel

from .base import Ledger
from .errors import BudgetExceededError
from .money import usd
from .periods import Spend, utc
from .url import resolve_url, shared_ledger


@dataclass(frozen=True)
class Decision:
    """What to run: `stage_model` on `service_tier`. `reason` says which soft cap changed it, if any."""

    stage_model: StageModel
    requested: StageModel
    service_tier: str = "standard"
    requested_service_tier: str = "standard"
    reason: str | None = None
    spend: Spend | None = None  # the committed spend the decision was taken on (None: no caps configured)

    @property
    def downgraded(self) -> bool:
        return self.stage_model.model_id != self.requested.model_id

    @property
    def changed(self) -> bool:
        return self.downgraded or self.service_tier != self.requested_service_tier

    def metadata(self) -> dict[str, str]:
        """LangSmith-style labels to merge into the call's metadata, so traces show what the guard did."""
        labels = {"tierwise_service_tier": self.service_tier}
        if self.downgraded:
            labels["tierwise_downgraded_from"] = self.requested.tier
        if self.reason:
            labels["tierwise_budget"] = self.reason
        return labels


class SpendGuard:
    """Budget rules from `registry.data.budget`, spend from `ledger`. Cheap to build: make one per call."""

    def __init__(self, ledger: Ledger, registry: Registry) -> None:
        self.ledger = ledger
        self.registry = registry

    @classmethod
    def for_registry(cls, registry: Registry, url: str | None = None) -> SpendGuard:
        """A guard on the process-wide ledger the registry (or $TIERWISE_LEDGER_URL, or `url`) points to."""
        return cls(shared_ledger(resolve_url(url, registry)), registry)

    def before_call(
        self,
        stage_model: StageModel,
        task_type: str | None = None,
        *,
        service_tier: str = "standard",
        at: datetime | None = None,
    ) -> Decision:
        """Decide how to run this call; raises `BudgetExceededError` when a hard cap is reached."""
        budget = self.registry.data.budget
        unchanged = Decision(stage_model, stage_model, service_tier, service_tier)
        if not budget.any_cap:
            return unchanged  # no caps: no database read on the hot path
        spend = self.ledger.spend(utc(at), task_type)
        _check_hard(budget, spend)
        reason = _soft_reason(budget, spend, task_type)
        if reason is None or stage_model.spec.critical:
            return Decision(stage_model, stage_model, service_tier, service_tier, reason, spend)
        target = stage_model
        cheapest = self.registry.data.tier_order[0]
        if budget.downgrade_when_capped and stage_model.tier != cheapest:
            target = self.registry.on_tier(stage_model.stage, cheapest)
        tier = budget.service_tier_when_capped or service_tier
        return Decision(target, stage_model, tier, service_tier, reason, spend)

    def after_call(
        self,
        record: Any,
        decision: Decision | None = None,
        *,
        route: str | None = None,
        escalated: bool | None = None,
        prompt: Any = None,
        request_id: str | None = None,
        downgraded_from: str | None = None,
        service_tier: str | None = None,
    ) -> Spend:
        """Store the priced `record` (idempotent per call id) and add its cost to the counters, atomically.

        `prompt` (text or messages) is stored as a sha256, and as text only if `[ledger] store_prompts`.
        Without a `decision`, `downgraded_from` and `service_tier` say what the guard changed, if anything.
        Returns the spend right after this record, from the same transaction.
        """
        from .entry import LedgerEntry

        entry = LedgerEntry.from_record(
            record,
            request_id=request_id,
            route=route,
            escalated=escalated,
            downgraded_from=(decision.requested.tier if decision.downgraded else None) if decision is not None
            else downgraded_from,
            service_tier=decision.service_tier if decision is not None else service_tier,
            prompt=prompt,
            store_prompt=self.registry.data.ledger.store_prompts,
        )
        return self.ledger.record(entry)

    async def abefore_call(self, stage_model: StageModel, task_type: str | None = None, **kwargs: Any) -> Decision:
        """`before_call` off the event loop (the database drivers block)."""
        if not self.registry.data.budget.any_cap:
            return self.before_call(stage_model, task_type, **kwargs)
        return await asyncio.to_thread(self.before_call, stage_model, task_type, **kwargs)

    async def aafter_call(self, record: Any, decision: Decision | None = None, **kwargs: Any) -> Spend:
        """`after_call` off the event loop."""
        return await asyncio.to_thread(self.after_call, record, decision, **kwargs)


def _check_hard(budget: Any, spend: Spend) -> None:
    caps = (
        ("hard_daily_usd", budget.hard_daily_usd, spend.day_usd, f"today ({spend.day} UTC)", "tomorrow (UTC)"),
        ("hard_monthly_usd", budget.hard_monthly_usd, spend.month_usd, f"this month ({spend.month} UTC)",
         "next month (UTC)"),
    )
    for key, cap, spent, when, until in caps:
        if cap is not None and spent >= cap:
            kind = "daily" if key == "hard_daily_usd" else "monthly"
            raise BudgetExceededError(
                f"hard {kind} cap {usd(cap)} reached: {usd(spent)} spent {when}; no new model calls until "
                f"{until} or until budget.{key} is raised",
                cap=key, limit_usd=cap, spent_usd=spent,
            )


def _soft_reason(budget: Any, spend: Spend, task_type: str | None) -> str | None:
    if budget.daily_usd is not None and spend.day_usd >= budget.daily_usd:
        return f"soft daily cap {usd(budget.daily_usd)} reached: {usd(spend.day_usd)} spent today (UTC)"
    if budget.monthly_usd is not None and spend.month_usd >= budget.monthly_usd:
        return f"soft monthly cap {usd(budget.monthly_usd)} reached: {usd(spend.month_usd)} spent this month (UTC)"
    cap = budget.per_task_type.get(task_type) if task_type else None
    if cap is not None and spend.task_day_usd >= cap:
        return f"soft daily cap {usd(cap)} for task type {task_type!r} reached: {usd(spend.task_day_usd)} spent today"
    return None
