"""THE road for every model call. Nodes name a stage; this does the rest, in this order:

    resolve the stage's model from the registry → call it → price the usage → return a CallRecord

Later rules (spend guard, cache, fallbacks, ledger, shadow calls) go inside `_plan`/`_settle`, so that they
hold for every node and every user graph alike.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from tierwise.context import Context
from tierwise.errors import TierwiseError
from tierwise.state.records import CallRecord
from tierwise.tiers import Registry, StageModel, Usage, load_registry, price

from .endpoint import Endpoint, resolve_endpoint
from .messages import normalize
from .models import runnable_for


class ModelCallError(TierwiseError, RuntimeError):
    """The model call failed; `.record` holds the priced (zero-token) record of the attempt."""

    def __init__(self, message: str, record: CallRecord) -> None:
        super().__init__(message)
        self.record = record


@dataclass(frozen=True)
class StageResult:
    """What a stage returned. `value` is text, a parsed schema instance, or None when unusable."""

    value: Any
    record: CallRecord
    message: Any = None

    @property
    def ok(self) -> bool:
        return self.record.outcome == "ok"


@dataclass(frozen=True)
class _Plan:
    route: StageModel
    registry: Registry
    endpoint: Endpoint
    runnable: Any
    messages: list[Any]
    schema: type | None
    config: dict[str, Any]
    task_type: str | None


def call_stage(
    stage: str,
    messages: Any,
    *,
    schema: type | None = None,
    context: Context | None = None,
    task_type: str | None = None,
) -> StageResult:
    """Run `stage` on the model the registry gives it; see the module docstring for what happens."""
    plan = _plan(stage, messages, schema, context, task_type)
    started = time.perf_counter()
    try:
        output = plan.runnable.invoke(plan.messages, config=plan.config)
    except Exception as exc:  # noqa: BLE001 - every failure becomes a record, then a typed error
        raise _failure(plan, exc, started) from exc
    return _settle(plan, output, started)


async def acall_stage(
    stage: str,
    messages: Any,
    *,
    schema: type | None = None,
    context: Context | None = None,
    task_type: str | None = None,
) -> StageResult:
    """Async `call_stage`: same road, awaiting the model."""
    plan = _plan(stage, messages, schema, context, task_type)
    started = time.perf_counter()
    try:
        output = await plan.runnable.ainvoke(plan.messages, config=plan.config)
    except Exception as exc:  # noqa: BLE001
        raise _failure(plan, exc, started) from exc
    return _settle(plan, output, started)


def current_context() -> Context:
    """The running graph's context, or defaults when called outside a graph."""
    from langgraph.runtime import get_runtime

    try:
        context = get_runtime().context
    except (RuntimeError, AttributeError, KeyError):
        return Context()
    return context if isinstance(context, Context) else Context()


def _plan(stage: str, messages: Any, schema: type | None, context: Context | None, task_type: str | None):
    from langchain_core.runnables.config import ensure_config, merge_configs

    context = context or current_context()
    registry = load_registry(context.registry_path)
    route = registry.stage(stage)  # unknown stage: a clear error before any call
    normalized = normalize(messages)
    endpoint = resolve_endpoint(context)
    runnable = runnable_for(route, endpoint, schema)
    labels = {"tierwise_stage": stage, "tierwise_tier": route.tier, "tierwise_model": route.model_id}
    if task_type:
        labels["tierwise_task_type"] = task_type
    # Merge with the parent run's config so LangGraph's own metadata (node, step) survives for streaming.
    config = merge_configs(
        ensure_config(),
        {
            "run_name": f"tierwise:{stage}",
            "tags": [f"stage:{stage}", f"tier:{route.tier}"],
            "metadata": labels,
        },
    )
    return _Plan(route, registry, endpoint, runnable, normalized, schema, config, task_type)


def _settle(plan: _Plan, output: Any, started: float) -> StageResult:
    latency_ms = (time.perf_counter() - started) * 1000
    text = (output.text or "").strip()
    value, error = (text or None, None) if plan.schema is None else parse(text, plan.schema)
    if value is None and error is None:
        error = "empty response"
    outcome = "ok" if value is not None else "unusable"
    record = _record(plan, usage_of(output), latency_ms, outcome, error)
    return StageResult(value, record, output)


def _failure(plan: _Plan, exc: Exception, started: float) -> ModelCallError:
    latency_ms = (time.perf_counter() - started) * 1000
    reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
    record = _record(plan, Usage(), latency_ms, "error", reason)
    where = f"stage {plan.route.stage!r} on {plan.route.model_id} via {plan.endpoint.describe()}"
    return ModelCallError(f"{where} failed: {reason}", record)


def _record(plan: _Plan, usage: Usage, latency_ms: float, outcome: str, error: str | None) -> CallRecord:
    today = date.today()
    top = plan.registry.on_tier(plan.route.stage, plan.registry.top_tier)
    return CallRecord(
        call_id=uuid.uuid4().hex,
        stage=plan.route.stage,
        tier=plan.route.tier,
        model=plan.route.model_id,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        thinking_tokens=usage.thinking_tokens,
        cached_tokens=usage.cached_tokens,
        cost_usd=price(plan.route.model, usage, today),
        all_pro_cost_usd=price(top.model, usage, today),
        latency_ms=round(latency_ms, 3),
        outcome=outcome,
        error=error,
        task_type=plan.task_type,
    )


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
