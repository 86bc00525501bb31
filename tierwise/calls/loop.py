"""The attempt loop, sans-IO: a generator that yields what to do (call a model, sleep, run a hook point) and
receives what happened. A sync and an async driver (api.py) run the same loop, so invoke and ainvoke behave alike,
and tests can drive it with scripted replies, no HTTP and no sleeping.

    for each model of the chain (primary, then fallbacks; cooling-down ones skipped):
        call it; judge the answer (not just the status); price the attempt
        transient failure → wait what the server asked (Retry-After / RetryInfo) with jittered backoff, retry
        otherwise, or out of attempts → the next model
    until an answer is good, the time budget is spent, or a failure no model can fix (bad credentials).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

from tierwise.errors import InvalidInputError
from tierwise.tiers import StageModel

from .answers import read_reply
from .billing import priced_record, reported_tier, usage_of
from .chain import candidates
from .cooldown import Cooldowns
from .failures import Failure, classify_exception
from .plan import Attempts, CallPlan
from .result import ModelCallError, StageResult


@dataclass(frozen=True)
class Call:
    """Invoke `candidate` with this timeout; reply with `Reply`."""

    candidate: StageModel
    timeout_s: float


@dataclass(frozen=True)
class Reply:
    output: Any
    error: BaseException | None
    seconds: float
    served_tier: str | None = None  # what the response said served it (x-gemini-service-tier), if it said


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


def attempt_loop(plan: CallPlan, attempts: Attempts, cooldowns: Cooldowns,
                 clock: Callable[[], float] = time.monotonic) -> Loop:
    """Yields actions; returns the first good result or raises ModelCallError (every attempt is in `attempts`)."""
    settings = plan.registry.data.resilience
    deadline = clock() + settings.time_limits(plan.service_tier, 0.0)[1]  # Flex answers in minutes: a longer budget
    chain = fitting(plan, _chain(plan))
    last: Failure | None = None
    for lap in range(2):  # a second lap only when every model was cooling down on the first
        tried_any = False
        for candidate in chain:
            key = f"{plan.endpoint.base_url}|{candidate.model_id}"
            lease = cooldowns.acquire(key)
            if lease is None:
                continue
            tried_any = True
            try:  # the probe lease (if this call holds one) is released on every outcome
                for attempt in range(1, settings.max_attempts + 1):
                    remaining = deadline - clock()
                    if remaining < 0.001:  # the client sends whole milliseconds, and 0 ms means "no timeout"
                        break
                    yield Hook("before_attempt", (plan, candidate, attempts))
                    attempt_s = settings.time_limits(plan.service_tier, candidate.spec.timeout_s)[0]
                    reply: Reply = yield Call(candidate, min(attempt_s, remaining))
                    result, failure = _judge(plan, attempts, candidate, attempt, reply)
                    yield Hook("after_attempt", (plan, attempts.records[-1], attempts))
                    if failure is None:
                        assert result is not None
                        cooldowns.succeeded(key, window_s=settings.cooldown_window_s)
                        return result
                    last = failure
                    if failure.transient:
                        cooldowns.failed(key, failures=settings.cooldown_failures,
                                         window_s=settings.cooldown_window_s, cooldown_s=settings.cooldown_s,
                                         ratio=settings.cooldown_failure_ratio)
                    if failure.fatal:
                        raise give_up(plan, attempts, failure)
                    if failure.kind == "context_overflow":
                        chain = [c for c in chain if c.model.context_window > candidate.model.context_window]
                        break
                    if not failure.retry_same_model or attempt == settings.max_attempts:
                        break
                    wait = backoff(settings, attempt, failure.retry_after_s)
                    if wait is None or clock() + wait >= deadline:
                        break  # the server asks for longer than we may wait: move down the chain
                    yield Sleep(wait)
            finally:
                cooldowns.release(key, lease)
        if tried_any or lap == 1 or not chain:
            break
        ready = min(cooldowns.ready_at(f"{plan.endpoint.base_url}|{c.model_id}") for c in chain)
        wait = max(0.0, ready - clock())
        if clock() + wait >= deadline:
            last = last or Failure("cooling_down", "every model of this stage is cooling down after failures")
            break
        yield Sleep(wait)
    raise give_up(plan, attempts, last or Failure("cooling_down", "every model of this stage is cooling down"))


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
                                              failure))
        return None, failure
    value, _text, unusable = read_reply(reply.output, plan.schema, plan.tools)
    attempts.records.append(priced_record(plan, candidate, attempt, usage_of(reply.output), reply.seconds,
                                          "unusable" if unusable else "ok", unusable,
                                          reply.served_tier or reported_tier(reply.output)))
    if unusable:
        return None, unusable
    return StageResult(value, list(attempts.records), reply.output), None


def backoff(settings: Any, attempt: int, retry_after_s: float | None) -> float | None:
    """Jittered exponential backoff, but never shorter than what the server asked; None if that is too long."""
    if retry_after_s is not None and retry_after_s > settings.max_wait_s:
        return None
    delay: float = min(settings.max_delay_s, settings.base_delay_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
    return max(delay, retry_after_s or 0.0)


def give_up(plan: CallPlan, attempts: Attempts, failure: Failure) -> ModelCallError:
    tried = ", ".join(dict.fromkeys(r.model for r in attempts.records)) or "no model (all cooling down)"
    message = (f"stage {plan.stage!r} failed after {len(attempts.records)} attempt(s) on {tried} "
               f"via {plan.endpoint.describe()}: {failure.kind}: {failure.message}")
    return ModelCallError(message, list(attempts.records), failure.kind)
