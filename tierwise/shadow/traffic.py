"""Shadow traffic: a rule of the one call path. After a stage answers, a sample of its calls (registry `[shadow]`,
per stage and task type) is re-run on a higher tier in the background, a judge grades both answers, and the pair
and its verdict go to the ledger (`tierwise_shadow`). The user's call has already returned by then.

- background: an asyncio task when the caller runs on an event loop (acall_stage), a small thread pool otherwise;
  at most `max_in_flight` samples pending — a sample arriving past that is skipped, never queued;
- shadow and judge calls go through `call_stage` labelled `purpose = "shadow"`: they never shadow again, and the
  ledger adds them to the shadow counters, not to the budget's; before each sample the day's shadow spend is read
  and past `[shadow] daily_usd` the sample is skipped (overshoot: at most the samples already in flight);
- a failure anywhere in here is logged and counted (`stats()`), never raised into the user's request.

The job is written once as a generator of steps and driven by a sync and an async loop, like the call path.
Tests and short scripts wait for pending samples with `runtime.shadow.drain()` (threads) or `await
runtime.shadow.adrain()` (tasks).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Generator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tierwise.context import Context
from tierwise.tiers import Registry

if TYPE_CHECKING:
    from tierwise.calls.runtime import CallRuntime
    from tierwise.ledger.url import LedgerPool

PURPOSE = "shadow"
WORKERS = 2
log = logging.getLogger("tierwise.shadow")

class ShadowTraffic:
    """One runtime's shadow traffic: its worker threads, the samples in flight and the counts of what happened to
    them. Owned by the ShadowHook a Runtime builds (`runtime.shadow`); closed with the runtime."""

    def __init__(self, ledgers: LedgerPool) -> None:
        self.ledgers = ledgers
        self._lock = threading.RLock()  # a future that is already done runs its callback at once, under the lock
        self._pool: ThreadPoolExecutor | None = None
        self._futures: set[Future[None]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._counts: Counter[str] = Counter()

    def maybe_shadow(self, stage: str, messages: Any, schema: type | None, result: Any, context: Context | None,
                     registry: Registry, labels: Mapping[str, Any] | None, runtime: CallRuntime | None = None) -> None:
        """Called by the call path after a good result: sample, and schedule the shadow work. Returns at once."""
        labels = labels or {}
        if labels.get("purpose"):
            return  # shadow, eval (and other non-traffic) calls are never shadowed
        settings = registry.data.shadow
        base = result.record
        rate = settings.rate(stage, base.task_type, labels.get("router_margin"), registry.data.router.hybrid_margin)
        if rate <= 0 or random.random() >= rate:
            return
        target = target_tier(registry, stage, base.tier)
        if target is None:
            self._count("skipped_not_higher")
            return
        if not registry.data.ledger.enabled:
            self._count("skipped_no_ledger")
            return
        job = _Job(stage, messages, schema, result, context or Context(), registry, dict(labels), target, runtime, self)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        with self._lock:
            if len(self._futures) + len(self._tasks) >= settings.max_in_flight:
                self._counts["skipped_busy"] += 1
                return
            self._counts["scheduled"] += 1
            if loop is not None:
                # A fresh context: the sample must not run inside the caller's graph run (callbacks, streaming).
                task = loop.create_task(_adrive(job), context=contextvars.Context())
                self._tasks.add(task)
                task.add_done_callback(self._forget_task)
            else:
                future = self._executor().submit(_drive, job)
                self._futures.add(future)
                future.add_done_callback(self._forget_future)


    def drain(self, timeout: float | None = 30.0) -> bool:
        """Wait for pending samples run on threads (sync callers); True when none is left. Tasks need `adrain`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                pending = list(self._futures)
            if not pending:
                return True
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            _, not_done = wait_futures(pending, timeout=remaining)
            if not_done:
                return False


    async def adrain(self, timeout: float | None = 30.0) -> bool:
        """Wait for pending samples: this event loop's tasks, then any on threads; True when none is left."""
        deadline = None if timeout is None else time.monotonic() + timeout
        loop = asyncio.get_running_loop()
        with self._lock:
            mine = [t for t in self._tasks if t.get_loop() is loop]
        if mine:
            _, not_done = await asyncio.wait(mine, timeout=timeout)
            if not_done:
                return False
        remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
        return await asyncio.to_thread(self.drain, remaining)


    def stats(self, reset: bool = False) -> dict[str, int]:
        """Counts of what happened to samples: scheduled, recorded, capped, unjudged, failed, skipped_*."""
        with self._lock:
            out = dict(self._counts)
            if reset:
                self._counts.clear()
        return out

    def _executor(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="tierwise-shadow")
            return self._pool

    def _forget_future(self, future: Future[None]) -> None:
        with self._lock:
            self._futures.discard(future)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        with self._lock:
            self._tasks.discard(task)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def close(self) -> None:
        """Stop taking samples; let those running finish (their calls are paid for), without waiting."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


def target_tier(registry: Registry, stage: str, base_tier: str) -> str | None:
    """The tier a sample re-runs on: the stage's `[shadow.stages.X] tier`, else the next one up; None if not higher."""
    data = registry.data
    spec = data.shadow.stages.get(stage)
    rank = data.rank(base_tier)
    target = spec.tier if spec is not None and spec.tier else (
        data.tier_order[rank + 1] if rank + 1 < len(data.tier_order) else None)
    return target if target is not None and data.rank(target) > rank else None


# ------------------------------------------------------------------------------------------------ the job


@dataclass(frozen=True)
class _Job:
    stage: str
    messages: Any
    schema: type | None
    result: Any  # the user's StageResult
    context: Context
    registry: Registry
    labels: dict[str, Any]
    target: str
    runtime: CallRuntime | None
    traffic: ShadowTraffic


@dataclass(frozen=True)
class _Db:
    fn: Callable[[], Any]


@dataclass(frozen=True)
class _Stage:
    kwargs: dict[str, Any]  # call_stage keyword arguments


def _steps(job: _Job) -> Generator[_Db | _Stage, Any, None]:
    """Cap check → shadow call → two blind grades → stored pair. Receives each step's result or exception."""
    from tierwise.calls import StageResult
    from tierwise.evals.grading import grade_messages
    from tierwise.evals.stages import answer_text, request_text
    from tierwise.ledger.shadow import ShadowPair
    from tierwise.state import Score

    settings, base = job.registry.data.shadow, job.result.record
    ledgers = job.traffic.ledgers
    ledger = ledgers.ledger(ledgers.resolve(job.registry))
    spent = yield _Db(ledger.shadow_spend)
    if isinstance(spent, Exception):
        raise spent
    if spent >= settings.daily_usd:
        job.traffic._count("capped")
        return
    labels = {"purpose": PURPOSE, "request_id": job.labels.get("request_id"), "route": job.labels.get("route")}
    common = {"context": job.context, "task_type": base.task_type, "labels": labels, "runtime": job.runtime}
    shadow = yield _Stage({"stage": job.stage, "messages": job.messages, "schema": job.schema, "tier": job.target,
                           **common})
    if not isinstance(shadow, StageResult):
        job.traffic._count("failed")
        return
    if shadow.record.tier != job.target:
        job.traffic._count("moved")  # a budget cap or a fallback ran it elsewhere: not the comparison asked for
        return
    request = request_text(job.messages)
    grades = []
    for value in (job.result.value, shadow.value):
        messages = grade_messages(request, answer_text(value))
        grades.append((yield _Stage({"stage": settings.judge_stage, "messages": messages, "schema": Score,
                                     "tier": settings.judge_tier or None, **common})))
    judged = [g for g in grades if isinstance(g, StageResult)]
    if len(judged) < 2 or any(g.value is None for g in judged):
        job.traffic._count("unjudged")
        return
    base_score, shadow_score = judged[0].value.score, judged[1].value.score
    gap = shadow_score - base_score
    verdict = "shadow_better" if gap > settings.tie_margin else "base_better" if -gap > settings.tie_margin \
        else "same"
    reason = f"base: {judged[0].value.reason.strip()} | shadow: {judged[1].value.reason.strip()}"[:500]
    pair = ShadowPair(
        shadow_id=uuid.uuid4().hex, started_at=base.started_at, stage=job.stage, task_type=base.task_type,
        request_id=job.labels.get("request_id"), base_call_id=base.call_id, base_tier=base.tier,
        base_model=base.model, base_score=base_score, base_cost_usd=sum(r.cost_usd for r in job.result.records),
        shadow_call_id=shadow.record.call_id, shadow_tier=shadow.record.tier, shadow_model=shadow.record.model,
        shadow_score=shadow_score, shadow_cost_usd=sum(r.cost_usd for r in shadow.records),
        judge_tier=judged[0].record.tier, judge_cost_usd=sum(r.cost_usd for g in judged for r in g.records),
        verdict=verdict, reason=reason,
    )
    stored = yield _Db(lambda: ledger.record_shadow(pair))
    if isinstance(stored, Exception):
        raise stored
    job.traffic._count("recorded")


def _drive(job: _Job) -> None:
    from tierwise.calls import call_stage

    steps = _steps(job)
    try:
        step = next(steps)
        while True:
            try:
                value = step.fn() if isinstance(step, _Db) else call_stage(**step.kwargs)
            except Exception as exc:  # noqa: BLE001 - handed to the job, which decides
                value = exc
            step = steps.send(value)
    except StopIteration:
        pass
    except Exception:  # noqa: BLE001 - shadow work never reaches the user
        job.traffic._count("failed")
        log.warning("a shadow sample failed", exc_info=True)


async def _adrive(job: _Job) -> None:
    from tierwise.calls import acall_stage

    steps = _steps(job)
    try:
        step = next(steps)
        while True:
            try:
                value = await (asyncio.to_thread(step.fn) if isinstance(step, _Db) else acall_stage(**step.kwargs))
            except Exception as exc:  # noqa: BLE001
                value = exc
            step = steps.send(value)
    except StopIteration:
        pass
    except Exception:  # noqa: BLE001
        job.traffic._count("failed")
        log.warning("a shadow sample failed", exc_info=True)


