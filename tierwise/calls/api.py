"""THE road for every model call. Nodes (and users' own graphs) name a stage; the core does three things:

    resolve the stage's models (its tier's, then its fallback chain) from the registry   (build_plan)
    → the attempt loop: skip cooling-down models; call; judge the answer; retry; fall back   (loop.py)
    → price every attempt's usage into a CallRecord                                          (billing.py)

Every other rule — spend guard, ledger, shadow traffic, yours — is a hook (hooks.py). The loop is written once,
sans-IO, and driven here by a sync and an async driver, so invoke and ainvoke behave identically.

Why not the stock tools: google-genai's retries ignore Retry-After (max_retries=1 turns them off); LangChain's
with_fallbacks moves on only on exceptions, not on an empty, blocked or schema-failing answer, and knows nothing
of tiers, context windows or a cooldown shared across requests; LangGraph's RetryPolicy re-runs a whole node.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from tierwise.context import Context, coerce_context
from tierwise.errors import InvalidInputError, ModelCallError
from tierwise.inputs import check_extract_schema, check_label, check_labels, check_tools, named_arguments

from . import deferred as _deferred
from . import explicit_caches as _caching
from . import hooks as _hooks
from . import served
from .loop import Call, Hook, Loop, Reply, Sleep, attempt_loop
from .messages import normalize, text_of
from .plan import Attempts, CallPlan
from .result import StageResult
from .runtime import CallRuntime, current_runtime
from .transport import call_parts

CHARS_PER_TOKEN = 4  # a cheap upper-bound-ish estimate for the pre-call context-window check


@named_arguments
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
    cache_prefix: int = 0,
    runtime: CallRuntime | None = None,
) -> StageResult:
    """Run `stage` on the models the registry gives it (see the module docstring).

    `schema`: a pydantic model the answer must fit (`value` is then an instance). `tools`: LangChain tools to
    bind (`value` is then the AIMessage, with `.tool_calls`). `labels`: `route`, `request_id`, `escalated`, and
    any other trace metadata; they are stored with the ledger record too. `tier`: run on this tier instead of
    the registry's (evals, shadow calls); otherwise a task type's own tier (`[task_types.T.stages.S]`) applies.
    `cache_prefix`: the first this many messages (system prompt, a long document) repeat across calls: inside a
    `caching(ExplicitCaches(...))` scope, an async call reads them from an explicit cache where that pays
    (calls/explicit_caches.py).
    `runtime`: the tierwise.Runtime whose registry, endpoint, hooks and ledger the call uses (default: the running
    graph's, else `tierwise.default_runtime()`).
    """
    runtime = current_runtime(runtime)
    plan = build_plan(stage, messages, schema, tools, context, task_type, labels, tier, runtime, cache_prefix)
    attempts = Attempts()
    result: StageResult | None = None
    error: BaseException | None = None
    try:
        plan = _hooks.run_point(plan.hooks, "before_call", plan)
        result = _drive(attempt_loop(plan, attempts, runtime.cooldowns), plan)
        _hooks.run_point(plan.hooks, "after_success", plan, result)
        return result
    except BaseException as exc:
        error = exc
        raise
    finally:
        _hooks.run_point(plan.hooks, "after_call", plan, attempts, result, error)


@named_arguments
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
    cache_prefix: int = 0,
    runtime: CallRuntime | None = None,
) -> StageResult:
    """Async `call_stage`: the same loop and hooks, awaiting the model, the waits and the hooks' async twins."""
    context = coerce_context(context) if context is not None else current_context()
    runtime = current_runtime(runtime)
    await runtime.awarm(context)
    plan = build_plan(stage, messages, schema, tools, context, task_type, labels, tier, runtime, cache_prefix)
    plan = plan.replace(loop=asyncio.get_running_loop())  # async clients belong to one event loop
    attempts = Attempts()
    result: StageResult | None = None
    error: BaseException | None = None
    try:
        plan = await _hooks.arun_point(plan.hooks, "before_call", plan)
        result = await _adrive(attempt_loop(plan, attempts, runtime.cooldowns), plan)
        await _hooks.arun_point(plan.hooks, "after_success", plan, result)
        return result
    except BaseException as exc:
        error = exc
        raise
    finally:
        await _hooks.arun_point(plan.hooks, "after_call", plan, attempts, result, error)


run_stage = acall_stage
"""The name user code reads best with: `await run_stage("classify", messages, schema=Tags)`. The same function as
`acall_stage` — one implementation, so user graphs get every rule the built-in nodes get."""


def _drive(loop: Loop, plan: CallPlan) -> StageResult:
    try:
        action = next(loop)
        while True:
            if isinstance(action, Hook):
                action = loop.send(_hooks.run_point(plan.hooks, action.point, *action.args))
            elif isinstance(action, Sleep):
                time.sleep(action.seconds)
                action = loop.send(None)
            else:
                action = loop.send(_invoke(plan, action))
    except StopIteration as done:
        result: StageResult = done.value
        return result


async def _adrive(loop: Loop, plan: CallPlan) -> StageResult:
    try:
        action = next(loop)
        while True:
            if isinstance(action, Hook):
                action = loop.send(await _hooks.arun_point(plan.hooks, action.point, *action.args))
            elif isinstance(action, Sleep):
                await asyncio.sleep(action.seconds)
                action = loop.send(None)
            else:
                action = loop.send(await _ainvoke(plan, action))
    except StopIteration as done:
        result: StageResult = done.value
        return result


def _invoke(plan: CallPlan, call: Call) -> Reply:
    runnable, messages, config, kwargs = call_parts(plan, call.candidate, call.timeout_s, call.max_output_tokens)
    from .tracecost import with_trace_costs  # LangChain's callbacks: imported on the first call, not with tierwise

    runnable, config, kwargs, pricer = with_trace_costs(runnable, config, kwargs, plan, call.candidate)
    box, token = served.listen()
    started = time.perf_counter()
    try:
        output = runnable.invoke(messages, config=config, **kwargs)
        return Reply(output, None, time.perf_counter() - started, _last_tier(box), pricer.cost if pricer else None,
                     tuple(box))
    except Exception as exc:  # noqa: BLE001 - the loop classifies every failure
        return Reply(None, exc, time.perf_counter() - started)
    finally:
        served.stop(token)


async def _ainvoke(plan: CallPlan, call: Call) -> Reply:
    runnable, messages, config, kwargs = call_parts(plan, call.candidate, call.timeout_s, call.max_output_tokens)
    from .tracecost import with_trace_costs  # LangChain's callbacks: imported on the first call, not with tierwise

    runnable, config, kwargs, pricer = with_trace_costs(runnable, config, kwargs, plan, call.candidate)
    if plan.caches is not None and not plan.tools:  # tools cannot go beside a cache (Gemini's 400)
        name = await plan.caches.name_for(call.candidate, messages[:plan.cache_prefix])
        if name is not None:  # the prefix (system prompt included) is in the cache: send the rest
            messages, kwargs = messages[plan.cache_prefix:], {**kwargs, "cached_content": name}
    box, token = served.listen()
    note, noted = _deferred.noting(_scope(plan, call)) if plan.deferred is not None else (None, None)
    started = time.perf_counter()
    try:
        output = await runnable.ainvoke(messages, config=config, **kwargs)
        return Reply(output, None, time.perf_counter() - started, _last_tier(box), pricer.cost if pricer else None,
                     tuple(box), note.key if note else None)
    except Exception as exc:  # noqa: BLE001
        return Reply(None, exc, time.perf_counter() - started, key=note.key if note else None)
    finally:
        served.stop(token)
        if noted is not None:
            _deferred.stop_noting(noted)


def _scope(plan: CallPlan, call: Call) -> str:
    """What, besides the request body, tells a deferred attempt apart: the request and stage it serves."""
    return f"{plan.labels.get('request_id') or ''}|{plan.stage}|{call.candidate.model_id}"


def _last_tier(box: list[served.Seen]) -> str | None:
    return next((seen.tier for seen in reversed(box) if seen.tier), None)


def build_plan(stage: str, messages: Any, schema: type | None, tools: Sequence[Any] | None,
               context: Context | None, task_type: str | None, labels: Mapping[str, Any] | None,
               tier: str | None = None, runtime: CallRuntime | None = None, cache_prefix: int = 0) -> CallPlan:
    """Resolve the stage's primary model and settings and check the request: every error here comes before any
    call and any spend."""
    from langchain_core.runnables.config import ensure_config

    context = coerce_context(context) if context is not None else current_context()
    runtime = current_runtime(runtime)
    check_label(task_type, "task_type")
    if schema is not None:
        check_extract_schema(schema, "schema")
    labels = check_labels(labels)
    check_tools(tools)
    registry = runtime.registry_for(context)
    route = registry.stage(stage, task_type=task_type, tier=tier)  # unknown stage/tier: an error before any call
    normalized = normalize(messages)
    prompt_tokens = sum(len(text_of(m)) for m in normalized) // CHARS_PER_TOKEN
    deferred = _deferred.current()  # a caller chose the Batch API for this scope (tierwise.batch, --api batch)
    if isinstance(cache_prefix, bool) or not isinstance(cache_prefix, int) or not 0 <= cache_prefix <= len(normalized):
        raise InvalidInputError(f"cache_prefix must be a whole number from 0 to the number of messages "
                                f"({len(normalized)}), got {cache_prefix!r}")
    caches = _caching.current() if cache_prefix else None
    return CallPlan(processing="batch" if deferred is not None else "standard", deferred=deferred,
                    cache_prefix=cache_prefix, caches=caches,
                    route=route, registry=registry, endpoint=runtime.endpoint_for(context, registry),
                    messages=tuple(normalized), context=context, hooks=runtime.hooks_for(registry), schema=schema,
                    tools=tools, task_type=task_type, labels=labels, prompt_tokens=prompt_tokens,
                    parent_config=ensure_config(), runtime=runtime)


def current_context() -> Context:
    """The running graph's context, or defaults when called outside a graph."""
    from langgraph.runtime import get_runtime

    try:
        context = get_runtime().context
    except (RuntimeError, AttributeError, KeyError):
        return Context()
    return coerce_context(context)


__all__ = ["CallPlan", "ModelCallError", "StageResult", "acall_stage", "call_stage", "current_context", "run_stage"]
