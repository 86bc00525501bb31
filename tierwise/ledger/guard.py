"""The spend guard: before a model call, read the spend and decide; before each attempt, reserve its worst case
against the hard caps; after it, record the call and settle the reservation to its real cost.

- a soft cap reached (daily, monthly, or a task type's daily) — counting what attempts in flight may still cost and
  this call's worst case: a non-critical stage runs on the cheapest tier (and/or a cheaper service tier); a
  critical stage is never touched;
- a hard cap: an attempt runs only if committed spend + every reservation in flight + its own worst case fits
  under it, checked and reserved in one transaction (`Ledger.reserve`), so the cap holds exactly, across threads,
  processes and machines sharing the ledger. An attempt that would fit once the calls in flight settle (they
  usually cost far less than their worst case) waits for them; one that cannot fit even then is refused with
  `BudgetExceededError` naming the cap. So spend stops within one call's worst case of the cap, never above it.

The counters live in the ledger's database and move in the same transaction as the stored record (see `sql.py`).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tierwise.tiers import Registry, StageModel

from .base import Hold, Ledger
from .errors import BudgetExceededError
from .money import usd
from .periods import Spend, utc

WAIT_S = 0.05  # how often an attempt waiting for reservations in flight to settle looks again (jittered)


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
    """Budget rules from `registry.data.budget`, spend from `ledger`. Cheap to build; a Runtime keeps one per
    registry in its LedgerPool."""

    def __init__(self, ledger: Ledger, registry: Registry) -> None:
        self.ledger = ledger
        self.registry = registry

    def before_call(
        self,
        stage_model: StageModel,
        task_type: str | None = None,
        *,
        service_tier: str = "standard",
        at: datetime | None = None,
        worst_usd: float = 0.0,
    ) -> Decision:
        """Decide how to run this call; raises `BudgetExceededError` when a hard cap is reached.

        `worst_usd`: the most the call can cost as asked (see tierwise/calls/worst.py): a soft cap that it, with
        the reservations of attempts in flight, would cross moves the call now rather than after the fact."""
        budget = self.registry.data.budget
        unchanged = Decision(stage_model, stage_model, service_tier, service_tier)
        if not budget.any_cap:
            return unchanged  # no caps: no database read on the hot path
        spend = self.ledger.spend(utc(at), task_type)
        _check_hard(budget, spend)
        reason = _soft_reason(budget, spend, task_type, worst_usd)
        if reason is None or stage_model.spec.critical:
            return Decision(stage_model, stage_model, service_tier, service_tier, reason, spend)
        target = stage_model
        cheapest = self.registry.data.tier_order[0]
        if budget.downgrade_when_capped and stage_model.tier != cheapest:
            target = self.registry.on_tier(stage_model.stage, cheapest)
        tier = budget.service_tier_when_capped or service_tier
        return Decision(target, stage_model, tier, service_tier, reason, spend)

    def try_reserve(self, usd: float, task_type: str | None = None, *, ttl_s: float,
                    at: datetime | None = None) -> tuple[str, Hold]:
        """One attempt at holding `usd` (see `Ledger.reserve`): (reservation id, what the ledger decided)."""
        budget = self.registry.data.budget
        reservation_id = uuid.uuid4().hex
        hold = self.ledger.reserve(reservation_id, usd, task_type=task_type, expires_at=time.time() + ttl_s,
                                   hard_day_usd=budget.hard_daily_usd, hard_month_usd=budget.hard_monthly_usd, at=at)
        if not hold.admitted:
            _check_fits(budget, hold.spend, usd)  # raises if it cannot fit even once the calls in flight settle
        return reservation_id, hold

    def reserve(self, usd: float, task_type: str | None = None, *, ttl_s: float, deadline: float,
                at: datetime | None = None) -> str:
        """Hold `usd` (an attempt's worst case) against the hard caps; returns the reservation id to settle
        (`after_call(..., reservation_id=)`) or `release`. Waits, until `deadline` (time.monotonic()), while
        attempts in flight hold what it needs; raises `BudgetExceededError` when it cannot fit at all."""
        while True:
            reservation_id, hold = self.try_reserve(usd, task_type, ttl_s=ttl_s, at=at)
            if hold.admitted:
                return reservation_id
            _check_deadline(self.registry.data.budget, hold.spend, usd, deadline)
            time.sleep(WAIT_S * random.uniform(0.5, 1.5))

    async def areserve(self, usd: float, task_type: str | None = None, *, ttl_s: float, deadline: float,
                       at: datetime | None = None) -> str:
        """`reserve` with the database work in a worker thread and the waiting on the event loop (a waiter must
        not occupy the thread pool the settles it waits for run in)."""
        while True:
            reservation_id, hold = await asyncio.to_thread(self.try_reserve, usd, task_type, ttl_s=ttl_s, at=at)
            if hold.admitted:
                return reservation_id
            _check_deadline(self.registry.data.budget, hold.spend, usd, deadline)
            await asyncio.sleep(WAIT_S * random.uniform(0.5, 1.5))

    def release(self, reservation_id: str) -> None:
        """Drop a reservation whose attempt was not recorded (it expires anyway if this fails)."""
        self.ledger.release(reservation_id)

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
        reservation_id: str | None = None,
    ) -> Spend:
        """Store the priced `record` (idempotent per call id) and add its cost to the counters, atomically —
        settling `reservation_id` (the attempt's hold) in the same transaction.

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
        return self.ledger.record(entry, reservation_id)

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


def _check_fits(budget: Any, spend: Spend, worst: float) -> None:
    """Refuse an attempt whose worst case cannot fit under a hard cap even if every call in flight cost nothing."""
    caps = (("hard_daily_usd", budget.hard_daily_usd, spend.day_usd, f"today ({spend.day} UTC)", "tomorrow (UTC)"),
            ("hard_monthly_usd", budget.hard_monthly_usd, spend.month_usd, f"this month ({spend.month} UTC)",
             "next month (UTC)"))
    for key, cap, spent, when, until in caps:
        if cap is not None and spent + worst > cap:
            kind = "daily" if key == "hard_daily_usd" else "monthly"
            raise BudgetExceededError(
                f"hard {kind} cap {usd(cap)} would be exceeded: {usd(spent)} spent {when} and this call may cost up "
                f"to {usd(worst)}; no such call until {until} or until budget.{key} is raised",
                cap=key, limit_usd=cap, spent_usd=spent,
            )


def _check_deadline(budget: Any, spend: Spend, worst: float, deadline: float) -> None:
    if time.monotonic() < deadline:
        return
    key, cap = (("hard_daily_usd", budget.hard_daily_usd) if budget.hard_daily_usd is not None
                and spend.held_day() + worst > budget.hard_daily_usd else ("hard_monthly_usd", budget.hard_monthly_usd))
    raise BudgetExceededError(
        f"hard cap {usd(cap)} (budget.{key}): calls in flight hold {usd(spend.reserved_day_usd)} of it and this call "
        f"may cost up to {usd(worst)}; they did not finish within the stage's time budget",
        cap=key, limit_usd=cap, spent_usd=spend.day_usd if key == "hard_daily_usd" else spend.month_usd,
    )


def _soft_reason(budget: Any, spend: Spend, task_type: str | None, worst: float = 0.0) -> str | None:
    """Why a soft cap applies: reached by committed spend, or about to be by the calls in flight and this one."""
    task_cap = budget.per_task_type.get(task_type) if task_type else None
    caps = (
        (budget.daily_usd, spend.day_usd, spend.held_day(), "soft daily cap {cap}", "today (UTC)"),
        (budget.monthly_usd, spend.month_usd, spend.held_month(), "soft monthly cap {cap}", "this month (UTC)"),
        (task_cap, spend.task_day_usd, spend.held_task_day(), "soft daily cap {cap} for task type {task}", "today"),
    )
    for limit, spent, held, name, when in caps:
        if limit is None:
            continue
        label = name.replace("{cap}", usd(limit)).replace("{task}", repr(task_type))
        if spent >= limit:
            return f"{label} reached: {usd(spent)} spent {when}"
        if held + worst > limit:
            return (f"{label} would be reached: {usd(spent)} spent {when}, {usd(held - spent)} held by calls in "
                    f"flight, up to {usd(worst)} for this call")
    return None
