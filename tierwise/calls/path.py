"""THE road for every model call. Nodes name a stage; this does the rest, in this order:

    resolve the stage's models (its tier's, then its fallback chain) from the registry
    → for each model: skip it while cooling down; call it; check the answer (not just the HTTP status);
      retry transient failures after the wait the server asked for (Retry-After / RetryInfo), with jittered
      backoff, within the request's time budget; then move down the chain
    → price every attempt's usage into a CallRecord
    → return the first good answer, or raise ModelCallError carrying every attempt's record.

Why not the stock tools: google-genai's retries ignore Retry-After (we set max_retries=1 to turn them off);
LangChain's with_fallbacks moves on only on exceptions, not on an empty, blocked or schema-failing answer, and
knows nothing of tiers, context windows or a cooldown shared across requests; LangGraph's RetryPolicy re-runs a
whole node on the same model. The policy below is written once, as a generator, and driven by a sync and an
async loop, so invoke and ainvoke behave identically.

Later rules (spend guard, cache, ledger, shadow calls) go inside this module too, so they hold for every node
and every user graph alike.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tierwise.context import Context
from tierwise.errors import InvalidInputError, TierwiseError
from tierwise.state.records import CallRecord
from tierwise.tiers import Registry, StageModel, Usage, load_registry, price
from tierwise.tiers.pricing import is_cache_hit
from tierwise.tiers.registry import RECHECK_SECONDS, fresh_registry

from .chain import candidates
from .cooldown import cooldowns
from .endpoint import Endpoint, resolve_endpoint
from .failures import Failure, classify_answer, classify_exception
from .messages import normalize, text_of
from .models import runnable_for

log = logging.getLogger("tierwise.calls")
CHARS_PER_TOKEN = 4  # a cheap upper-bound-ish estimate for the pre-call context-window check


class ModelCallError(TierwiseError, RuntimeError):
    """Every model the stage may use failed. `.records` holds each attempt, priced; `.kind` the last failure."""

    def __init__(self, message: str, records: list[CallRecord], kind: str) -> None:
        super().__init__(message)
        self.records = records
        self.kind = kind

    @property
    def record(self) -> CallRecord:
        return self.records[-1]


@dataclass(frozen=True)
class StageResult:
    """What a stage returned. `value` is text, a parsed schema instance, or None when unusable."""

    value: Any
    records: list[CallRecord]
    message: Any = None

    @property
    def record(self) -> CallRecord:
        return self.records[-1]

    @property
    def ok(self) -> bool:
        return self.record.outcome == "ok"


@dataclass
class _Plan:
    route: StageModel
    registry: Registry
    endpoint: Endpoint
    messages: list[Any]
    schema: type | None
    parent_config: dict[str, Any]
    task_type: str | None
    prompt_tokens: int
    labels: Mapping[str, Any]
    tools: Sequence[Any] | None
    guard: Any  # tierwise.ledger.SpendGuard, or None when the ledger is off
    service_tier: str = "standard"
    prompt_text: str | None = None  # what the ledger hashes; built once per stage call, not per attempt
    records: list[CallRecord] = field(default_factory=list)
    context: Context | None = None  # what calls this one starts (shadow traffic) run with
    loop: Any = None  # the event loop of an async call: its clients are built for that loop


@dataclass(frozen=True)
class _Call:
    runnable: Any
    messages: list[Any]
    config: dict[str, Any]
    kwargs: dict[str, Any]  # per-call client options: timeout, service_tier


@dataclass(frozen=True)
class _Sleep:
    seconds: float


@dataclass(frozen=True)
class _Blocking:
    """Database work (spend guard, ledger): run inline when sync, in a worker thread when async."""

    fn: Callable[[], Any]


def call_stage(
    stage: str,
    messages: Any,
    *,
    schema: type | None = None,
    tools: Sequence[Any] | None = None,
    context: Context | None = None,
    task_type: str | None = None,
    labels: Mapping[str, Any] | None = None,
    tier: str | None = None,
) -> StageResult:
    """Run `stage` on the models the registry gives it; see the module docstring for what happens.

    `schema`: a pydantic model the answer must fit (`value` is then an instance). `tools`: LangChain tools to
    bind (`value` is then the AIMessage, with `.tool_calls`). `labels`: `route`, `request_id`, `escalated`, and
    any other trace metadata; they are stored with the ledger record too. `tier`: run on this tier instead of
    the registry's (evals, shadow calls); otherwise a task type's own tier (`[task_types.T.stages.S]`) applies.
    """
    policy = _policy(_plan(stage, messages, schema, tools, context, task_type, labels, tier))
    try:
        action = next(policy)
        while True:
            if isinstance(action, _Sleep):
                time.sleep(action.seconds)
                action = policy.send(None)
                continue
            if isinstance(action, _Blocking):
                action = policy.send(action.fn())
                continue
            started = time.perf_counter()
            try:
                reply = (action.runnable.invoke(action.messages, config=action.config, **action.kwargs), None)
            except Exception as exc:  # noqa: BLE001 - the policy classifies every failure
                reply = (None, exc)
            action = policy.send((*reply, time.perf_counter() - started))
    except StopIteration as done:
        return done.value


async def acall_stage(
    stage: str,
    messages: Any,
    *,
    schema: type | None = None,
    tools: Sequence[Any] | None = None,
    context: Context | None = None,
    task_type: str | None = None,
    labels: Mapping[str, Any] | None = None,
    tier: str | None = None,
) -> StageResult:
    """Async `call_stage`: the same policy, awaiting the model and the waits."""
    context = context or current_context()
    await awarm(context)
    plan = _plan(stage, messages, schema, tools, context, task_type, labels, tier)
    plan.loop = asyncio.get_running_loop()  # async clients belong to one event loop
    policy = _policy(plan)
    try:
        action = next(policy)
        while True:
            if isinstance(action, _Sleep):
                await asyncio.sleep(action.seconds)
                action = policy.send(None)
                continue
            if isinstance(action, _Blocking):
                action = policy.send(await asyncio.to_thread(action.fn))
                continue
            started = time.perf_counter()
            try:
                reply = (await action.runnable.ainvoke(action.messages, config=action.config, **action.kwargs), None)
            except Exception as exc:  # noqa: BLE001
                reply = (None, exc)
            action = policy.send((*reply, time.perf_counter() - started))
    except StopIteration as done:
        return done.value


async def awarm(context: Context) -> None:
    """Do the call path's file and socket work (registry re-check, ledger open, emulator start) in a worker
    thread, at most once a second, so that async callers never block their event loop on it (`langgraph dev`
    refuses blocking calls on its loop)."""
    key = (context.registry_path, context.backend, context.base_url)
    if time.monotonic() < _warm_until.get(key, 0.0) and fresh_registry(context.registry_path) is not None:
        return
    await asyncio.to_thread(_warm, context)
    _warm_until[key] = time.monotonic() + RECHECK_SECONDS * 0.9


def _warm(context: Context) -> None:
    registry = load_registry(context.registry_path)
    resolve_endpoint(context)
    _guard(registry)


_warm_until: dict[tuple, float] = {}


run_stage = acall_stage
"""The name user code reads best with: `await run_stage("classify", messages, schema=Tags)`. The same function as
`acall_stage` — one implementation, so user graphs get every rule the built-in nodes get."""


def current_context() -> Context:
    """The running graph's context, or defaults when called outside a graph."""
    from langgraph.runtime import get_runtime

    try:
        context = get_runtime().context
    except (RuntimeError, AttributeError, KeyError):
        return Context()
    return context if isinstance(context, Context) else Context()


def _plan(stage: str, messages: Any, schema: type | None, tools: Sequence[Any] | None, context: Context | None,
          task_type: str | None, labels: Mapping[str, Any] | None, tier: str | None = None) -> _Plan:
    from langchain_core.runnables.config import ensure_config

    context = context or current_context()
    registry = load_registry(context.registry_path)
    route = registry.stage(stage, task_type=task_type, tier=tier)  # unknown stage/tier: an error before any call
    normalized = normalize(messages)
    prompt_tokens = sum(len(text_of(m)) for m in normalized) // CHARS_PER_TOKEN
    return _Plan(route, registry, resolve_endpoint(context), normalized, schema, ensure_config(), task_type,
                 prompt_tokens, dict(labels or {}), tools, _guard(registry), context=context)


def _guard(registry: Registry) -> Any:
    if not registry.data.ledger.enabled:
        return None
    from tierwise.ledger import LedgerError, SpendGuard

    try:
        return SpendGuard.for_registry(registry)
    except LedgerError as exc:
        if registry.data.budget.any_cap:
            raise  # caps without a ledger cannot be enforced: fail closed
        _warn_once(f"call records are not persisted: {exc}")
        return None


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


def _policy(plan: _Plan) -> Generator[_Call | _Sleep, Any, StageResult]:
    """Yields calls and waits; receives (output, exception, seconds) for each call. Returns or raises."""
    settings = plan.registry.data.resilience
    deadline = time.monotonic() + settings.request_budget_s
    decision = None
    if plan.guard is not None:  # spend caps: may move a non-critical stage down, or refuse (hard cap)
        check = lambda: plan.guard.before_call(plan.route, plan.task_type)  # noqa: E731
        # Without caps the guard reads nothing: no reason to hop to a worker thread on the async path.
        decision = (yield _Blocking(check)) if plan.registry.data.budget.any_cap else check()
        plan.service_tier = decision.service_tier
        if decision.changed:
            plan.labels = {**plan.labels, **decision.metadata()}
    chain = candidates(plan.registry, decision.stage_model if decision else plan.route)
    if decision is not None and decision.downgraded:  # capped: stay on the cheapest tier, fallbacks included
        chain = [c for c in chain if c.tier == decision.stage_model.tier]
    chain = _fitting(plan, chain)
    last: Failure | None = None
    for lap in range(2):  # a second lap only when every model was cooling down on the first
        tried_any = False
        for candidate in chain:
            key = f"{plan.endpoint.base_url}|{candidate.model_id}"
            if not cooldowns.available(key):
                continue
            tried_any = True
            for attempt in range(1, settings.max_attempts + 1):
                remaining = deadline - time.monotonic()
                if remaining < 0.001:  # the client sends whole milliseconds, and 0 ms means "no timeout"
                    break
                timeout = min(candidate.spec.timeout_s, remaining)
                output, exc, seconds = yield _Call(*_call_parts(plan, candidate, timeout))
                result, failure = _judge(plan, candidate, attempt, output, exc, seconds)
                if plan.guard is not None:
                    yield _Blocking(lambda: _persist(plan, decision))
                if failure is None:
                    cooldowns.succeeded(key, window_s=settings.cooldown_window_s)
                    _shadow(plan, result)
                    return result
                last = failure
                if failure.transient:
                    cooldowns.failed(key, failures=settings.cooldown_failures, window_s=settings.cooldown_window_s,
                                     cooldown_s=settings.cooldown_s, ratio=settings.cooldown_failure_ratio)
                if failure.fatal:
                    raise _give_up(plan, failure)
                if failure.kind == "context_overflow":
                    chain = [c for c in chain if c.model.context_window > candidate.model.context_window]
                    break
                if not failure.retry_same_model or attempt == settings.max_attempts:
                    break
                wait = _backoff(settings, attempt, failure.retry_after_s)
                if wait is None or time.monotonic() + wait >= deadline:
                    break  # the server asks for longer than we may wait: move down the chain
                yield _Sleep(wait)
        if tried_any or lap == 1:
            break
        ready = min(cooldowns.ready_at(f"{plan.endpoint.base_url}|{c.model_id}") for c in chain)
        wait = max(0.0, ready - time.monotonic())
        if time.monotonic() + wait >= deadline:
            last = last or Failure("cooling_down", "every model of this stage is cooling down after failures")
            break
        yield _Sleep(wait)
    raise _give_up(plan, last or Failure("cooling_down", "every model of this stage is cooling down"))


def _fitting(plan: _Plan, chain: list[StageModel]) -> list[StageModel]:
    """Drop models whose context window the prompt cannot fit; refuse before any call if none can."""
    fitting = [c for c in chain if c.model.context_window >= plan.prompt_tokens]
    if not fitting:
        largest = max(c.model.context_window for c in chain)
        raise InvalidInputError(
            f"the request is too long for stage {plan.route.stage!r}: about {plan.prompt_tokens:,} tokens, and the "
            f"largest context window among its models is {largest:,} tokens; shorten or split the input"
        )
    return fitting


def _call_parts(plan: _Plan, candidate: StageModel, timeout_s: float) -> tuple[Any, list[Any], dict, dict]:
    labels = {"tierwise_stage": candidate.stage, "tierwise_tier": candidate.tier, "tierwise_model": candidate.model_id}
    if plan.task_type:
        labels["tierwise_task_type"] = plan.task_type
    for key, value in plan.labels.items():
        if value is not None:
            labels[key if key.startswith("tierwise_") else f"tierwise_{key}"] = value
    tags = [f"stage:{candidate.stage}", f"tier:{candidate.tier}"]
    tags += [f"{key}:{plan.labels[key]}" for key in ("route",) if plan.labels.get(key)]
    tags += [f"task_type:{plan.task_type}"] if plan.task_type else []
    # On top of the parent run's config, so LangGraph's own metadata (node, step) and callbacks survive for
    # streaming: what merge_configs does for these three keys, without its general-case cost on the hot path.
    parent = plan.parent_config
    config = {**parent, "run_name": f"tierwise:{candidate.stage}", "tags": [*parent.get("tags", ()), *tags],
              "metadata": {**parent.get("metadata", {}), **labels}}
    kwargs: dict[str, Any] = {"timeout": timeout_s}
    if plan.service_tier != "standard":
        kwargs["service_tier"] = plan.service_tier  # sent as the request's serviceTier (Flex / Batch pricing)
    return runnable_for(candidate, plan.endpoint, plan.schema, plan.tools, plan.loop), plan.messages, config, kwargs


def _persist(plan: _Plan, decision: Any) -> None:
    """Store the latest attempt's record; a ledger outage costs the record, never the answer."""
    from tierwise.ledger import LedgerError
    from tierwise.ledger.entry import prompt_text

    if plan.prompt_text is None:
        plan.prompt_text = prompt_text(plan.messages)
    try:
        plan.guard.after_call(plan.records[-1], decision, route=plan.labels.get("route"),
                              escalated=plan.labels.get("escalated"), prompt=plan.prompt_text,
                              request_id=plan.labels.get("request_id"))
    except LedgerError as exc:
        _warn_once(f"a call record could not be stored: {exc}")


def _shadow(plan: _Plan, result: StageResult) -> None:
    """Maybe re-run this stage on a higher tier in the background (tierwise/evals/shadow.py). Never delays or
    fails the user's call: scheduling errors are logged and dropped."""
    if not plan.registry.data.shadow.enabled or plan.tools:
        return  # the common case costs one attribute read
    try:
        from tierwise.evals.shadow import maybe_shadow

        maybe_shadow(plan.route.stage, plan.messages, plan.schema, result, plan.context, plan.registry, plan.labels)
    except Exception:  # noqa: BLE001 - shadow traffic must never affect the user's request
        log.warning("shadow traffic could not be scheduled", exc_info=True)


def _judge(plan: _Plan, candidate: StageModel, attempt: int, output: Any, exc: BaseException | None,
           seconds: float) -> tuple[StageResult | None, Failure | None]:
    """Record the attempt; return the result if the answer is good, else the failure."""
    if exc is not None:
        failure = classify_exception(exc)
        _add_record(plan, candidate, attempt, Usage(), seconds, "error", failure)
        return None, failure
    text = (output.text or "").strip()
    if plan.tools and getattr(output, "tool_calls", None):
        value, schema_error, text = output, None, text or "(tool calls)"
    elif plan.schema is None:
        value, schema_error = (output if plan.tools else text or None), None
    else:
        value, schema_error = parse(text, plan.schema)
    failure = classify_answer(output, text, schema_error, plan.schema is not None)
    _add_record(plan, candidate, attempt, usage_of(output), seconds, "unusable" if failure else "ok", failure)
    if failure:
        return None, failure
    return StageResult(value, list(plan.records), output), None


def _backoff(settings: Any, attempt: int, retry_after_s: float | None) -> float | None:
    """Jittered exponential backoff, but never shorter than what the server asked; None if that is too long."""
    if retry_after_s is not None and retry_after_s > settings.max_wait_s:
        return None
    delay = min(settings.max_delay_s, settings.base_delay_s * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)
    return max(delay, retry_after_s or 0.0)


def _give_up(plan: _Plan, failure: Failure) -> ModelCallError:
    tried = ", ".join(dict.fromkeys(r.model for r in plan.records)) or "no model (all cooling down)"
    message = (f"stage {plan.route.stage!r} failed after {len(plan.records)} attempt(s) on {tried} "
               f"via {plan.endpoint.describe()}: {failure.kind}: {failure.message}")
    return ModelCallError(message, list(plan.records), failure.kind)


def _add_record(plan: _Plan, candidate: StageModel, attempt: int, usage: Usage, seconds: float, outcome: str,
                failure: Failure | None) -> None:
    today, factors = date.today(), plan.registry.data.service_tiers
    top = plan.registry.top_model
    plan.records.append(CallRecord(
        call_id=uuid.uuid4().hex,
        stage=candidate.stage,
        tier=candidate.tier,
        model=candidate.model_id,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        thinking_tokens=usage.thinking_tokens,
        cached_tokens=usage.cached_tokens,
        cost_usd=price(candidate.model, usage, today, service_tier=plan.service_tier, factors=factors),
        all_pro_cost_usd=price(top, usage, today, factors=factors),  # the counterfactual: Pro, standard
        latency_ms=round(seconds * 1000, 3),
        outcome=outcome,
        error=failure.message if failure else None,
        error_kind=failure.kind if failure else None,
        attempt=attempt,
        fallback=candidate.model_id != plan.route.model_id,
        task_type=plan.task_type,
        purpose=plan.labels.get("purpose"),
    ))


def usage_of(message: Any) -> Usage:
    """LangChain's usage metadata → billable counts (output_tokens already includes thinking)."""
    meta = getattr(message, "usage_metadata", None) or {}
    details_in = meta.get("input_token_details") or {}
    details_out = meta.get("output_token_details") or {}
    return Usage(
        input_tokens=int(meta.get("input_tokens") or 0),
        output_tokens=int(meta.get("output_tokens") or 0),
        thinking_tokens=int(details_out.get("reasoning") or 0),
        cached_tokens=int(details_in.get("cache_read") or 0),
        cache_hit=is_cache_hit(meta),  # a LangChain cache hit replays usage; it costs nothing
    )


def parse(text: str, schema: type) -> tuple[Any, str | None]:
    """The schema instance, or (None, why not): a bad output is a record, not an exception."""
    from pydantic import ValidationError

    if not text:
        return None, "empty response"
    if text.startswith("```"):  # tolerate a fenced block, as LangChain's parsers do
        text = text.strip("`").removeprefix("json").strip()
    try:
        return schema.model_validate_json(text), None
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "output"
        return None, f"output does not fit {schema.__name__}: {where}: {first['msg']}"[:500]
