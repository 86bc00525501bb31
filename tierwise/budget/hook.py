"""The ledger as a call-path hook: the spend guard before a call (a soft cap moves a non-critical stage to the
cheapest tier and/or a cheaper service tier; a hard cap refuses), a reservation of each attempt's worst case
before it (the hard caps hold exactly), and every priced attempt persisted after it, settling its reservation.

A ledger outage costs the record, never the answer — unless caps are configured: caps without a ledger cannot be
enforced, so then the call fails closed.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Mapping
from typing import Any

from tierwise.calls.hooks import CallHook
from tierwise.calls.plan import Attempts, CallPlan
from tierwise.calls.result import StageResult
from tierwise.calls.worst import output_tokens_within, worst_case_usd
from tierwise.errors import BudgetExceededError, LedgerError
from tierwise.ledger import LedgerPool
from tierwise.ledger.entry import entry_row, prompt_columns, prompt_text
from tierwise.ledger.journal import journal_for, journal_open
from tierwise.ledger.sqlite import SQLiteLedger
from tierwise.state.records import CallRecord
from tierwise.tiers import Registry, StageModel, economics

from .guard import BudgetDecision, SpendGuard
from .guards import spend_guards

log = logging.getLogger("tierwise.calls")
_NOTE = "ledger"  # Attempts.notes key: this call's hashed prompt, deadline and the reservation it holds
SHADOW = "shadow"  # shadow traffic is capped apart ([shadow] daily_usd): it reserves nothing from [budget]
LABELS_OF_TIERWISE = frozenset({"route", "request_id", "escalated", "purpose"})  # columns of their own


class LedgerHook(CallHook):
    """Records every attempt and enforces the caps, on the ledgers of `pool` (the runtime's)."""

    name = "ledger"

    def __init__(self, pool: LedgerPool) -> None:
        self.pool = pool
        self.guards = spend_guards(pool)
        self._warned: set[str] = set()

    def enabled(self, registry: Registry) -> bool:
        return registry.data.ledger.enabled

    def warm(self, registry: Registry) -> None:
        guard = self._guard(registry)
        if guard is not None and (ledger := _journaled(guard)) is not None:
            journal_for(ledger)  # open it here, off the event loop
        if guard is not None:
            economics.refresh_if_stale(registry, self.pool)  # Pro's typical thinking, read off the event loop

    def before_call(self, plan: CallPlan) -> CallPlan:
        if not plan.registry.data.budget.any_cap:
            return plan  # no caps: nothing to decide (an unreachable ledger is reported when a record is stored)
        guard = self._guard(plan.registry, plan.endpoint.stand_in)
        if guard is None:
            return plan
        worst = worst_case_usd(plan, plan.route)
        decision = guard.before_call(plan.route, plan.task_type, service_tier=plan.service_tier, worst_usd=worst,
                                     tenants=guard.tenants_of(plan.labels))
        return _apply(plan, decision)

    async def abefore_call(self, plan: CallPlan) -> CallPlan:
        if not plan.registry.data.budget.any_cap:  # no caps: nothing to read, no thread hop
            return self.before_call(plan)
        return await asyncio.to_thread(self.before_call, plan)

    def before_attempt(self, plan: CallPlan, candidate: StageModel, attempts: Attempts) -> None:
        reserving = self._reserving(plan)
        if reserving is None:
            return
        guard, worst, least, ttl_s, deadline = reserving(attempts, candidate)
        try:
            held, amount = guard.reserve_within(worst, least, plan.task_type, ttl_s=ttl_s, deadline=deadline,
                                                tenants=guard.tenants_of(plan.labels))
        except BudgetExceededError as refused:
            refused.records = list(attempts.records)  # the attempts already billed stay in the caller's records
            raise
        _held(plan, candidate, attempts, held, amount, worst)

    async def abefore_attempt(self, plan: CallPlan, candidate: StageModel, attempts: Attempts) -> None:
        reserving = self._reserving(plan)
        if reserving is None:
            return
        # sized off the event loop: near a cap it reads the stage's observed outputs from the ledger (once a minute)
        guard, worst, least, ttl_s, deadline = await asyncio.to_thread(reserving, attempts, candidate)
        try:
            held, amount = await guard.areserve_within(worst, least, plan.task_type, ttl_s=ttl_s, deadline=deadline,
                                                       tenants=guard.tenants_of(plan.labels))
        except BudgetExceededError as refused:
            refused.records = list(attempts.records)
            raise
        _held(plan, candidate, attempts, held, amount, worst)

    def _reserving(self, plan: CallPlan):
        """None when this call reserves nothing (no caps, or shadow traffic); else how to size its reservation:
        (guard, the attempt's worst case, the least it may run on near a hard cap or None, ttl, deadline)."""
        budget = plan.registry.data.budget
        if not budget.any_cap or plan.labels.get("purpose") == SHADOW:
            return None
        guard = self._guard(plan.registry, plan.endpoint.stand_in)
        if guard is None:
            return None
        # A reservation outlives its stage call's time budget only if its process died mid-call: then it expires.
        budget_s = plan.registry.data.resilience.time_limits(plan.timing, 0.0)[1]  # flex, batch: a longer budget

        def sized(attempts: Attempts, candidate: StageModel):
            note = _note(attempts)
            deadline = note.setdefault("deadline", time.monotonic() + budget_s)
            return guard, worst_case_usd(plan, candidate), least_usd(guard, plan, candidate), 2 * budget_s, deadline

        return sized

    def after_attempt(self, plan: CallPlan, record: CallRecord, attempts: Attempts) -> None:
        """Store the attempt's record before the call returns. Without caps, through the SQLite ledger's journal
        (one write; durable against a process kill; committed by its writer thread, see journal.py); with caps,
        in the same transaction as the counters the next cap check reads."""
        guard = self._guard(plan.registry, plan.endpoint.stand_in)
        if guard is None:
            return
        note = _note(attempts)
        if "prompt" not in note:  # made once per stage call, not per attempt
            note["prompt"] = prompt_text(list(plan.messages))
        labels = plan.labels
        if "tenancy" not in note:  # the request's own labels, and the budgeted ones among them (counters)
            note["tenancy"] = tenancy(labels, guard.tenants_of(labels))
        try:
            if (ledger := _journaled(guard)) is not None:
                if "columns" not in note:  # hashed once per stage call (the synchronous path hashes in the guard)
                    note["columns"] = prompt_columns(note["prompt"], plan.registry.data.ledger.store_prompts)
                journal_for(ledger).append(entry_row(
                    record, request_id=labels.get("request_id"), route=labels.get("route"),
                    escalated=labels.get("escalated"), downgraded_from=plan.downgraded_from,
                    **note["tenancy"], **note["columns"]))  # service_tier: the record's, the one that served it
                return
            guard.after_call(record, route=labels.get("route"), escalated=labels.get("escalated"),
                             prompt=note["prompt"], request_id=labels.get("request_id"),
                             downgraded_from=plan.downgraded_from, reservation_id=note.get("held"),
                             **note["tenancy"])
            note.pop("held", None)  # settled with the record
        except LedgerError as exc:
            self._warn_once(f"a call record could not be stored: {exc}")

    def after_call(self, plan: CallPlan, attempts: Attempts, result: StageResult | None,
                   error: BaseException | None) -> None:
        held = _note(attempts).pop("held", None)
        if held is None:
            return  # the common case: every reservation was settled with its record
        guard = self._guard(plan.registry, plan.endpoint.stand_in)
        try:
            if guard is not None:
                guard.release(held)
        except LedgerError as exc:  # it expires on its own
            self._warn_once(f"a spend reservation could not be released (it expires by itself): {exc}")

    async def aafter_call(self, plan: CallPlan, attempts: Attempts, result: StageResult | None,
                          error: BaseException | None) -> None:
        if _NOTE in attempts.notes and "held" in attempts.notes[_NOTE]:
            await asyncio.to_thread(self.after_call, plan, attempts, result, error)

    async def aafter_attempt(self, plan: CallPlan, record: CallRecord, attempts: Attempts) -> None:
        if not plan.registry.data.ledger.enabled:
            return
        # the ledger is open already: warm() opened it in a worker thread
        guard = self._guard(plan.registry, plan.endpoint.stand_in)
        ledger = _journaled(guard) if guard is not None else None
        if ledger is not None and journal_open(ledger):
            self.after_attempt(plan, record, attempts)  # one write to the journal: no thread hop
        else:
            await asyncio.to_thread(self.after_attempt, plan, record, attempts)

    def _guard(self, registry: Registry, stand_in: bool = False) -> SpendGuard | None:
        """The guard on the ledger these calls record into (stand-ins: their own, unless one was named)."""
        if not registry.data.ledger.enabled:
            return None
        try:
            return self.guards.get(registry, stand_in=stand_in)
        except LedgerError as exc:
            if registry.data.budget.any_cap:
                raise  # caps without a ledger cannot be enforced: fail closed
            self._warn_once(f"call records are not persisted: {exc}")
            return None

    def _warn_once(self, message: str) -> None:
        if message not in self._warned:
            self._warned.add(message)
            log.warning(message)


def tenancy(labels: Mapping[str, Any], tenants: dict[str, str]) -> dict[str, dict[str, str]]:
    """What a ledger row keeps of the request's labels (its `extra`): the caller's own (`labels`: user, team...,
    not tierwise's route, request id or trace notes) and, for the counters, the budgeted ones (`tenants`)."""
    own = {k: str(v) for k, v in labels.items() if k not in LABELS_OF_TIERWISE and not k.startswith("tierwise_")
           and v is not None}
    return {key: value for key, value in (("labels", own), ("tenants", tenants)) if value}


def least_usd(guard: SpendGuard, plan: CallPlan, candidate: StageModel) -> float | None:
    """The worst case of an attempt limited to what the stage has been seen to need: its good answers' output
    tokens at `[budget] fit_output_quantile`, times `fit_output_margin`. Near a hard cap, where the full worst case
    (the stage's whole max_output_tokens) cannot fit, the attempt may run with the output limit what is left pays
    for, down to this — instead of being refused. None: not near-cap fitting (off, no hard cap, too few samples)."""
    budget = plan.registry.data.budget
    if not budget.fit_output_near_cap or not budget.any_hard_cap:
        return None
    seen = guard.observed_output_tokens(candidate.stage, candidate.model_id, budget.fit_output_quantile,
                                        budget.fit_output_min_samples)
    if seen is None:
        return None
    tokens = math.ceil(seen * budget.fit_output_margin)
    if tokens >= candidate.spec.max_output_tokens:
        return None
    return worst_case_usd(plan, candidate, output_tokens=tokens)


def _held(plan: CallPlan, candidate: StageModel, attempts: Attempts, held: str, amount: float, worst: float) -> None:
    """Note the reservation to settle; if it holds less than the worst case, limit the attempt's output to it."""
    _note(attempts)["held"] = held
    if amount < worst:
        attempts.output_limit = output_tokens_within(plan, candidate, amount)


def _note(attempts: Attempts) -> dict:
    return attempts.notes.setdefault(_NOTE, {})


def _journaled(guard: SpendGuard) -> SQLiteLedger | None:
    """The ledger whose journal takes the records, when nothing reads the counters before the next call (no caps);
    SQLite only (PostgreSQL ledgers serve many machines; a journal is local to one). None: write synchronously."""
    ledger = guard.ledger
    return ledger if not guard.registry.data.budget.any_cap and isinstance(ledger, SQLiteLedger) else None


def _apply(plan: CallPlan, decision: BudgetDecision) -> CallPlan:
    """The plan the guard's decision asks for: the chosen model and service tier, labelled for traces."""
    if not decision.changed:
        return plan
    return plan.replace(route=decision.stage_model, service_tier=decision.service_tier,
                        stay_on_tier=decision.downgraded,
                        downgraded_from=decision.requested.tier if decision.downgraded else None,
                        labels={**plan.labels, **decision.metadata()})
