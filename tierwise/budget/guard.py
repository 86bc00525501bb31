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
import math
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tierwise.errors import BudgetExceededError, LedgerError
from tierwise.ledger.base import Hold, Ledger
from tierwise.ledger.periods import Spend, TenantLimit, TenantSpend, refusal_scope, tenant_scope, utc
from tierwise.money import usd
from tierwise.tiers import Registry, StageModel
from tierwise.tiers.schema import TenantCaps

usd_text = usd  # `usd` is also the name of an amount in the methods below

WAIT_S = 0.05  # how often an attempt waiting for reservations in flight to settle looks again (jittered)
OBSERVED_SAMPLES = 500  # the most recent good answers of a stage and model that its output limit near a cap reads
OBSERVED_TTL_S = 60.0


@dataclass(frozen=True)
class BudgetDecision:
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


@dataclass(frozen=True)
class TenantCap:
    """One tenant of a request (label `key` = `value`) and the caps it is held to."""

    key: str
    value: str
    caps: TenantCaps

    @property
    def scope(self) -> str:
        return tenant_scope(self.key, self.value)

    @property
    def limit(self) -> TenantLimit:
        return TenantLimit(self.scope, self.caps.hard_daily_usd, self.caps.hard_monthly_usd)

    def where(self, setting: str) -> str:
        """The registry key of one of its caps, as the user would edit it."""
        return f"budget.per_label.{self.key}.{setting}"


class SpendGuard:
    """Budget rules from `registry.data.budget`, spend from `ledger`. Cheap to build; a Runtime keeps one per
    registry (tierwise.budget.spend_guard)."""

    def __init__(self, ledger: Ledger, registry: Registry) -> None:
        self.ledger = ledger
        self.registry = registry
        self._observed: dict[tuple[str, str, float, int], tuple[float, int | None]] = {}  # observed_output_tokens

    def before_call(
        self,
        stage_model: StageModel,
        task_type: str | None = None,
        *,
        service_tier: str = "standard",
        at: datetime | None = None,
        worst_usd: float = 0.0,
        tenants: Mapping[str, str] | None = None,
    ) -> BudgetDecision:
        """Decide how to run this call; raises `BudgetExceededError` when a hard cap is reached.

        `worst_usd`: the most the call can cost as asked (see tierwise/calls/worst.py): a soft cap that it, with
        the reservations of attempts in flight, would cross moves the call now rather than after the fact.
        `tenants`: the request's budgeted labels (`tenants_of`): each one's own caps apply too."""
        budget = self.registry.data.budget
        unchanged = BudgetDecision(stage_model, stage_model, service_tier, service_tier)
        if not budget.any_cap:
            return unchanged  # no caps: no database read on the hot path
        moment = utc(at)
        spend = self.ledger.spend(moment, task_type)
        caps = self.tenant_caps(tenants)
        held = self.ledger.tenant_spend([c.scope for c in caps], moment) if caps else {}
        try:
            _check_hard(budget, spend)
            for cap in caps:
                _check_tenant_hard(cap, held[cap.scope])
        except BudgetExceededError:
            self._count_refusal(tenants, moment)
            raise
        reason = _soft_reason(budget, spend, task_type, worst_usd) or next(
            (why for cap in caps if (why := _tenant_soft_reason(cap, held[cap.scope], worst_usd))), None)
        if reason is None or stage_model.spec.critical:
            return BudgetDecision(stage_model, stage_model, service_tier, service_tier, reason, spend)
        target = stage_model
        cheapest = self.registry.data.tier_order[0]
        if budget.downgrade_when_capped and stage_model.tier != cheapest:
            target = self.registry.on_tier(stage_model.stage, cheapest)
        tier = budget.service_tier_when_capped or service_tier
        return BudgetDecision(target, stage_model, tier, service_tier, reason, spend)

    def tenants_of(self, labels: Mapping[str, Any]) -> dict[str, str]:
        """The request's labels that budgets are kept per (`[budget.per_label]`), e.g. {"user": "alice"}."""
        per_label = self.registry.data.budget.per_label
        return {key: str(labels[key]) for key in per_label if labels.get(key) is not None}

    def tenant_caps(self, tenants: Mapping[str, str] | None) -> list[TenantCap]:
        """Each tenant's caps: its label's `[budget.per_label.KEY]`, or the value's own override."""
        per_label = self.registry.data.budget.per_label
        return [TenantCap(key, value, per_label[key].caps_for(value)) for key, value in sorted((tenants or {}).items())
                if key in per_label]

    def try_reserve(self, usd: float, task_type: str | None = None, *, ttl_s: float,
                    at: datetime | None = None, tenants: Mapping[str, str] | None = None,
                    min_usd: float | None = None) -> tuple[str, Hold]:
        """One attempt at holding `usd` (see `Ledger.reserve`, and `min_usd` there): (reservation id, what the
        ledger decided). Raises `BudgetExceededError` when not even `min_usd` (else `usd`) could fit once every call
        in flight settles."""
        budget = self.registry.data.budget
        caps = self.tenant_caps(tenants)
        reservation_id = uuid.uuid4().hex
        hold = self.ledger.reserve(reservation_id, usd, task_type=task_type, expires_at=time.time() + ttl_s,
                                   hard_day_usd=budget.hard_daily_usd, hard_month_usd=budget.hard_monthly_usd, at=at,
                                   tenants=[cap.limit for cap in caps if cap.limit.hard_day_usd is not None
                                            or cap.limit.hard_month_usd is not None], min_usd=min_usd)
        if not hold.admitted:
            least = usd if min_usd is None else min(usd, min_usd)
            try:  # raises if it cannot fit even once the calls in flight settle
                _check_fits(budget, hold.spend, least)
                for cap in caps:
                    if cap.scope in hold.tenants:
                        _check_tenant_fits(cap, hold.tenants[cap.scope], least)
            except BudgetExceededError:
                self._count_refusal(tenants, at)
                raise
        return reservation_id, hold

    def reserve(self, usd: float, task_type: str | None = None, *, ttl_s: float, deadline: float,
                at: datetime | None = None, tenants: Mapping[str, str] | None = None) -> str:
        """Hold `usd` (an attempt's worst case) against the hard caps, the global ones and each tenant's; returns
        the reservation id to settle (`after_call(..., reservation_id=)`) or `release`. Waits, until `deadline`
        (time.monotonic()), while attempts in flight hold what it needs; raises `BudgetExceededError` when it
        cannot fit at all."""
        return self.reserve_within(usd, None, task_type, ttl_s=ttl_s, deadline=deadline, at=at, tenants=tenants)[0]

    def reserve_within(self, usd: float, min_usd: float | None, task_type: str | None = None, *, ttl_s: float,
                       deadline: float, at: datetime | None = None,
                       tenants: Mapping[str, str] | None = None) -> tuple[str, float]:
        """`reserve`, but near a hard cap, where `usd` cannot fit even once the calls in flight settle, hold what is
        left if it is at least `min_usd`: (reservation id, the amount held). The caller limits the attempt to it
        (a lower max output), so the cap still holds exactly and spend gets closer to it."""
        while True:
            reservation_id, hold = self.try_reserve(usd, task_type, ttl_s=ttl_s, at=at, tenants=tenants,
                                                    min_usd=min_usd)
            if hold.admitted:
                return reservation_id, hold.usd
            self._check_deadline(hold, usd if min_usd is None else min(usd, min_usd), deadline, tenants, at)
            time.sleep(WAIT_S * random.uniform(0.5, 1.5))

    async def areserve(self, usd: float, task_type: str | None = None, *, ttl_s: float, deadline: float,
                       at: datetime | None = None, tenants: Mapping[str, str] | None = None) -> str:
        """`reserve` with the database work in a worker thread and the waiting on the event loop (a waiter must
        not occupy the thread pool the settles it waits for run in)."""
        return (await self.areserve_within(usd, None, task_type, ttl_s=ttl_s, deadline=deadline, at=at,
                                           tenants=tenants))[0]

    async def areserve_within(self, usd: float, min_usd: float | None, task_type: str | None = None, *,
                              ttl_s: float, deadline: float, at: datetime | None = None,
                              tenants: Mapping[str, str] | None = None) -> tuple[str, float]:
        """`reserve_within` off the event loop (see `areserve`)."""
        while True:
            reservation_id, hold = await asyncio.to_thread(self.try_reserve, usd, task_type, ttl_s=ttl_s, at=at,
                                                           tenants=tenants, min_usd=min_usd)
            if hold.admitted:
                return reservation_id, hold.usd
            if time.monotonic() >= deadline:
                least = usd if min_usd is None else min(usd, min_usd)
                await asyncio.to_thread(self._check_deadline, hold, least, deadline, tenants, at)
            await asyncio.sleep(WAIT_S * random.uniform(0.5, 1.5))

    def observed_output_tokens(self, stage: str, model: str, quantile: float, min_samples: int) -> int | None:
        """The `quantile` of the output tokens (thinking included) of the stage's recent good answers on `model`,
        from the ledger; None with fewer than `min_samples` of them. Kept on the guard for a minute."""
        key = (stage, model, quantile, min_samples)
        kept = self._observed.get(key)
        if kept is not None and time.monotonic() - kept[0] < OBSERVED_TTL_S:
            return kept[1]
        try:
            seen = sorted(self.ledger.output_tokens(stage, model, OBSERVED_SAMPLES))
        except (LedgerError, NotImplementedError):
            seen = []
        value = seen[min(len(seen) - 1, math.ceil(quantile * len(seen)) - 1)] if len(seen) >= min_samples else None
        self._observed[key] = (time.monotonic(), value)
        return value

    def _check_deadline(self, hold: Hold, usd: float, deadline: float, tenants: Mapping[str, str] | None,
                        at: datetime | None) -> None:
        if time.monotonic() < deadline:
            return
        self._count_refusal(tenants, at)
        for cap in self.tenant_caps(tenants):
            spent = hold.tenants.get(cap.scope)
            if spent is None:
                continue
            for setting, limit, amount, _, _ in _tenant_hard(cap, spent, held=True):
                if amount + usd > limit:
                    daily = setting == "hard_daily_usd"
                    raise BudgetExceededError(
                        f"hard cap {usd_text(limit)} for {cap.key} {cap.value!r} ({cap.where(setting)}): its calls "
                        f"in flight hold {usd_text(spent.reserved_day_usd if daily else spent.reserved_month_usd)} "
                        f"of it and this call may cost up to {usd_text(usd)}; they did not finish within the stage's "
                        "time budget",
                        cap=cap.where(setting), limit_usd=limit, spent_usd=spent.day_usd if daily else spent.month_usd)
        _check_deadline(self.registry.data.budget, hold.spend, usd, deadline)

    def _count_refusal(self, tenants: Mapping[str, str] | None, at: datetime | None) -> None:
        """Count a refused call against each of its tenants, for `tierwise report --by label:KEY` (best effort: a
        refusal stands whether or not it could be counted)."""
        if not tenants:
            return
        try:
            self.ledger.count_refusal([refusal_scope(k, v) for k, v in tenants.items()], at)
        except LedgerError:
            pass

    def release(self, reservation_id: str) -> None:
        """Drop a reservation whose attempt was not recorded (it expires anyway if this fails)."""
        self.ledger.release(reservation_id)

    def after_call(
        self,
        record: Any,
        decision: BudgetDecision | None = None,
        *,
        route: str | None = None,
        escalated: bool | None = None,
        prompt: Any = None,
        request_id: str | None = None,
        downgraded_from: str | None = None,
        service_tier: str | None = None,
        reservation_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        tenants: Mapping[str, str] | None = None,
    ) -> Spend:
        """Store the priced `record` (idempotent per call id) and add its cost to the counters, atomically —
        settling `reservation_id` (the attempt's hold) in the same transaction.

        `prompt` (text or messages) is stored as a sha256, and as text only if `[ledger] store_prompts`.
        Without a `decision`, `downgraded_from` and `service_tier` say what the guard changed, if anything.
        Returns the spend right after this record, from the same transaction.
        """
        from tierwise.ledger.entry import LedgerEntry

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
            labels=dict(labels) if labels else None,
            tenants=dict(tenants) if tenants else None,
        )
        return self.ledger.record(entry, reservation_id)

    async def abefore_call(self, stage_model: StageModel, task_type: str | None = None,
                           **kwargs: Any) -> BudgetDecision:
        """`before_call` off the event loop (the database drivers block)."""
        if not self.registry.data.budget.any_cap:
            return self.before_call(stage_model, task_type, **kwargs)
        return await asyncio.to_thread(self.before_call, stage_model, task_type, **kwargs)

    async def aafter_call(self, record: Any, decision: BudgetDecision | None = None, **kwargs: Any) -> Spend:
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


def _tenant_hard(cap: TenantCap, spent: TenantSpend, held: bool) -> list[tuple[str, float, float, str, str]]:
    """(setting, cap, amount, when, until) for each of the tenant's hard caps."""
    day, month = (spent.held_day(), spent.held_month()) if held else (spent.day_usd, spent.month_usd)
    caps = [("hard_daily_usd", cap.caps.hard_daily_usd, day, "today (UTC)", "tomorrow (UTC)"),
            ("hard_monthly_usd", cap.caps.hard_monthly_usd, month, "this month (UTC)", "next month (UTC)")]
    return [(setting, limit, amount, when, until) for setting, limit, amount, when, until in caps if limit is not None]


def _check_tenant_hard(cap: TenantCap, spent: TenantSpend) -> None:
    for setting, limit, amount, when, until in _tenant_hard(cap, spent, held=False):
        if amount >= limit:
            kind = "daily" if setting == "hard_daily_usd" else "monthly"
            raise BudgetExceededError(
                f"hard {kind} cap {usd_text(limit)} for {cap.key} {cap.value!r} reached: {usd_text(amount)} spent "
                f"{when}; no new model calls for this {cap.key} until {until} or until {cap.where(setting)} is "
                "raised", cap=cap.where(setting), limit_usd=limit, spent_usd=amount)


def _check_tenant_fits(cap: TenantCap, spent: TenantSpend, worst: float) -> None:
    for setting, limit, amount, when, until in _tenant_hard(cap, spent, held=False):
        if amount + worst > limit:
            kind = "daily" if setting == "hard_daily_usd" else "monthly"
            raise BudgetExceededError(
                f"hard {kind} cap {usd_text(limit)} for {cap.key} {cap.value!r} would be exceeded: "
                f"{usd_text(amount)} spent {when} and this call may cost up to {usd_text(worst)}; no such call for "
                f"this {cap.key} until {until} or until {cap.where(setting)} is raised",
                cap=cap.where(setting), limit_usd=limit, spent_usd=amount)


def _tenant_soft_reason(cap: TenantCap, spent: TenantSpend, worst: float) -> str | None:
    whose = f"for {cap.key} {cap.value!r}"
    return _first_soft((
        (cap.caps.daily_usd, spent.day_usd, spent.held_day(), f"soft daily cap {{cap}} {whose}", "today (UTC)"),
        (cap.caps.monthly_usd, spent.month_usd, spent.held_month(), f"soft monthly cap {{cap}} {whose}",
         "this month (UTC)"),
    ), worst)


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
    return _first_soft((
        (budget.daily_usd, spend.day_usd, spend.held_day(), "soft daily cap {cap}", "today (UTC)"),
        (budget.monthly_usd, spend.month_usd, spend.held_month(), "soft monthly cap {cap}", "this month (UTC)"),
        (task_cap, spend.task_day_usd, spend.held_task_day(), f"soft daily cap {{cap}} for task type {task_type!r}",
         "today"),
    ), worst)


def _first_soft(caps: tuple[tuple[float | None, float, float, str, str], ...], worst: float) -> str | None:
    """The first soft cap (limit, committed spend, spend + holds, label with {cap}, when) reached by committed
    spend, or about to be by the calls in flight and this one's `worst`: the global caps and a tenant's alike."""
    for limit, spent, held, label, when in caps:
        if limit is None:
            continue
        name = label.replace("{cap}", usd(limit))
        if spent >= limit:
            return f"{name} reached: {usd(spent)} spent {when}"
        if held + worst > limit:
            return (f"{name} would be reached: {usd(spent)} spent {when}, {usd(held - spent)} held by calls in "
                    f"flight, up to {usd(worst)} for this call")
    return None
