"""The attempt loop, sans-IO: a generator that yields what to do (call a model, sleep, run a hook point) and
receives what happened. A sync and an async driver (api.py) run the same loop, so invoke and ainvoke behave alike,
and tests can drive it with scripted replies, no HTTP and no sleeping.

    for each model of the chain (primary, then fallbacks; cooling-down ones skipped):
        call it; judge the answer (not just the status); price the attempt
        transient failure → wait what the server asked (Retry-After / RetryInfo) with jittered backoff, retry
        otherwise, or out of attempts → the next model
    critical stages: after the chain, wait and go round it again while transient failures leave time to
    until an answer is good, the time budget is spent, or a failure no model can fix (bad credentials).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from tierwise.errors import InvalidInputError, ModelCallError
from tierwise.tiers import StageModel

from .answers import read_reply
from .billing import priced_record, usage_of
from .chain import candidates
from .cooldown import Cooldowns
from .failures import Failure, classify_exception
from .hooks import wants
from .plan import Attempts, CallPlan
from .result import StageResult


@dataclass(frozen=True)
class Call:
    """Invoke `candidate` with this timeout; reply with `Reply`."""

    candidate: StageModel
    timeout_s: float
    max_output_tokens: int | None = None  # lower than the stage's, when a hook asked (Attempts.output_limit)


@dataclass(frozen=True)
class Reply:
    output: Any
    error: BaseException | None
    seconds: float
    served_tier: str | None = None  # what the response said served it (x-gemini-service-tier), if it said
    cost: Any = None  # its bill as priced for the trace (a tierwise.tiers.Cost), if it was traced
    seen: tuple[Any, ...] = ()  # each HTTP response's own tier and usage (calls/served.py), when read
    key: str | None = None  # a deferred attempt's stable key: its record's call_id (deferred.py)


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Hook:
    """Run hook point `point` with `args` (the plan's hooks); reply with what it returns."""

    point: str
    args: tuple[Any, ...]


Action = Call | Sleep | Hook
Loop = Generator[Action, Any, StageResult]
MIN_WAIT_S = 0.01  # the shortest wait between passes, so that waiting on another request's probe never spins


def attempt_loop(plan: CallPlan, attempts: Attempts, cooldowns: Cooldowns,
                 clock: Callable[[], float] = time.monotonic) -> Loop:
    """Yields actions; returns the first good result or raises ModelCallError (every attempt is in `attempts`).

    Non-critical stages: up to `max_attempts` per model (waiting at most `max_wait_s` for a Retry-After), then the
    next model; one pass over the chain. Critical stages persist: their readers need this answer and no cheaper
    model may give it, so after a pass whose failures were transient they wait (Retry-After, else jittered backoff)
    and go round the chain again, until the answer comes or the time budget is spent. A model that failed in a way
    retrying cannot fix (bad request, blocked, cut at max tokens) is not tried again in a later pass.
    """
    settings = plan.registry.data.resilience
    started = clock()
    deadline = started + settings.time_limits(plan.timing, 0.0)[1]  # Flex answers in minutes: a longer budget
    persist = plan.route.spec.critical
    chain = fitting(plan, _chain(plan))
    tries = dict.fromkeys((c.model_id for c in chain), 0)  # attempts so far per model, across passes
    last: Failure | None = None
    for lap in itertools.count(1):
        tried_any = False
        again: list[StageModel] = []  # models worth another pass
        for candidate in list(chain):
            if candidate not in chain:
                continue  # dropped by a context overflow on a model before it
            key = f"{plan.endpoint.base_url}|{candidate.model_id}"
            lease = cooldowns.acquire(key)
            if lease is None:
                again.append(candidate)
                continue
            tried_any = True
            try:  # the probe lease (if this call holds one) is released on every outcome
                result, failure = yield from _on_model(plan, attempts, cooldowns, candidate, key, tries,
                                                       (started, deadline), clock, persist)
            finally:
                cooldowns.release(key, lease)
            if result is not None:
                return result
            last = failure or last
            if failure is not None and failure.kind == "context_overflow":
                chain = [c for c in chain if c.model.context_window > candidate.model.context_window]
            elif failure is None or failure.retry_same_model:
                again.append(candidate)
        chain = [c for c in chain if c in again]
        if not chain or (not persist and (tried_any or lap > 1)):
            break  # non-critical: one pass (a second only when every model was cooling down on the first)
        now = clock()
        if tried_any:
            wait = backoff(settings, lap, last.retry_after_s if last else None, limit=None)
        else:  # every model is cooling down: wait for the first to be ready for a probe
            ready = min(cooldowns.ready_at(f"{plan.endpoint.base_url}|{c.model_id}") for c in chain)
            wait = max(ready - now, settings.base_delay_s, MIN_WAIT_S)
            last = last or Failure("cooling_down", "every model of this stage is cooling down after failures")
        if wait is None or now + wait >= deadline:
            break
        if _endpoint_dead(attempts, now + wait - started, settings.connect_budget_s):
            raise give_up(plan, attempts, _dead(plan, attempts, settings.connect_budget_s))  # no wait past it
        yield Sleep(wait)
    raise give_up(plan, attempts, last or Failure("cooling_down", "every model of this stage is cooling down"))


def _on_model(plan: CallPlan, attempts: Attempts, cooldowns: Cooldowns, candidate: StageModel, key: str,
              tries: dict[str, int], window: tuple[float, float], clock: Callable[[], float],
              persist: bool) -> Generator[Action, Any, tuple[StageResult | None, Failure | None]]:
    """Up to `max_attempts` attempts on one model: (result, None) on success, else (None, the last failure)."""
    settings = plan.registry.data.resilience
    started, deadline = window
    failure: Failure | None = None
    for n in range(1, settings.max_attempts + 1):
        remaining = deadline - clock()
        if remaining < 0.001:  # the client sends whole milliseconds, and 0 ms means "no timeout"
            break
        if len(attempts.records) >= settings.max_total_attempts:
            break  # a bound on attempts whatever the waits: no setting makes a stage call spin
        if _endpoint_dead(attempts, clock() - started, settings.connect_budget_s):
            raise give_up(plan, attempts, _dead(plan, attempts, settings.connect_budget_s))
        tries[candidate.model_id] += 1
        attempts.output_limit = None
        if wants(plan.hooks, "before_attempt"):
            yield Hook("before_attempt", (plan, candidate, attempts))
        attempt_s = settings.time_limits(plan.timing, candidate.spec.timeout_s)[0]
        limit, attempts.output_limit = attempts.output_limit, None
        reply: Reply = yield Call(candidate, min(attempt_s, remaining), limit)
        result, failure = _judge(plan, attempts, candidate, tries[candidate.model_id], reply)
        if wants(plan.hooks, "after_attempt"):
            yield Hook("after_attempt", (plan, attempts.records[-1], attempts))
        if failure is None:
            assert result is not None
            cooldowns.succeeded(key, window_s=settings.cooldown_window_s)
            return result, None
        cooled = failure.transient and cooldowns.failed(
            key, failures=settings.cooldown_failures, window_s=settings.cooldown_window_s,
            cooldown_s=settings.cooldown_s, ratio=settings.cooldown_failure_ratio)
        if failure.fatal:
            raise give_up(plan, attempts, failure)
        if not failure.retry_same_model or n == settings.max_attempts or cooled:
            break  # cooled: this failure put the model in its cooldown, so this request leaves it alone too
        wait = backoff(settings, n, failure.retry_after_s, limit=None if persist else settings.max_wait_s)
        if wait is None or clock() + wait >= deadline:
            break  # the server asks for longer than we may wait here: the next model
        if _endpoint_dead(attempts, clock() + wait - started, settings.connect_budget_s):
            raise give_up(plan, attempts, _dead(plan, attempts, settings.connect_budget_s))
        yield Sleep(wait)
    return None, failure


def _endpoint_dead(attempts: Attempts, elapsed_s: float, budget_s: float) -> bool:
    """True when every attempt of this call failed to connect for `budget_s`: the endpoint is down or the URL is
    wrong, which the whole request budget (minutes) would not change."""
    records = attempts.records
    return bool(records) and elapsed_s >= budget_s and all(r.error_kind == "connection" for r in records)


def _dead(plan: CallPlan, attempts: Attempts, budget_s: float) -> Failure:
    return Failure("connection", f"{plan.endpoint.describe()} did not accept a connection within [resilience] "
                   f"connect_budget_s = {budget_s:g} s ({attempts.records[-1].error}); is it running, and is the "
                   "URL right?", fatal=True)


def _chain(plan: CallPlan) -> list[StageModel]:
    chain = candidates(plan.registry, plan.route)
    if plan.stay_on_tier:  # capped: stay on the tier the guard chose, fallbacks included
        chain = [c for c in chain if c.tier == plan.route.tier]
    return chain


def fitting(plan: CallPlan, chain: list[StageModel]) -> list[StageModel]:
    """Drop models whose context window the prompt cannot fit; refuse before any call if none can."""
    fits = [c for c in chain if c.model.context_window >= plan.prompt_tokens]
    if not fits:
        largest = max(c.model.context_window for c in chain)
        raise InvalidInputError(
            f"the request is too long for stage {plan.stage!r}: about {plan.prompt_tokens:,} tokens, and the "
            f"largest context window among its models is {largest:,} tokens; shorten or split the input"
        )
    return fits


def _judge(plan: CallPlan, attempts: Attempts, candidate: StageModel, attempt: int,
           reply: Reply) -> tuple[StageResult | None, Failure | None]:
    """Price and record the attempt; return the result if the answer is good, else the failure."""
    if reply.error is not None:
        failure = classify_exception(reply.error)
        attempts.records.append(priced_record(plan, candidate, attempt, usage_of(None), reply.seconds, "error",
                                              failure, call_id=reply.key))
        return None, failure
    value, _text, unusable = read_reply(reply.output, plan.schema, plan.tools)
    # usage None: the responses' own usage (reply.seen) is billed; LangChain's is read only if they were not whole
    attempts.records.append(priced_record(plan, candidate, attempt, None, reply.seconds,
                                          "unusable" if unusable else "ok", unusable, reply.served_tier, reply.cost,
                                          reply.seen, call_id=reply.key, message=reply.output))
    if unusable:
        return None, unusable
    return StageResult(value, list(attempts.records), reply.output), None


def backoff(settings: Any, attempt: int, retry_after_s: float | None, *, limit: float | None) -> float | None:
    """Jittered exponential backoff, but never shorter than what the server asked; None if it asks for more than
    `limit` seconds (None: no limit, as for a critical stage, which waits as long as its time budget allows)."""
    if retry_after_s is not None and limit is not None and retry_after_s > limit:
        return None
    growth = 2.0 ** min(attempt - 1, 60)  # capped: 2 ** 1000 as a float overflows (and is past max_delay_s anyway)
    delay: float = min(settings.max_delay_s, settings.base_delay_s * growth) * random.uniform(0.5, 1.0)
    return max(delay, retry_after_s or 0.0)


def give_up(plan: CallPlan, attempts: Attempts, failure: Failure) -> ModelCallError:
    tried = ", ".join(dict.fromkeys(r.model for r in attempts.records)) or "no model (all cooling down)"
    message = (f"stage {plan.stage!r} failed after {len(attempts.records)} attempt(s) on {tried} "
               f"via {plan.endpoint.describe()}: {failure.kind}: {failure.message}")
    return ModelCallError(message, list(attempts.records), failure.kind)
