"""OpenTelemetry spans for every stage call and every attempt, with tierwise's exact cost on the attempts.

Spans follow the GenAI semantic conventions: an attempt is an inference span, `generate_content {model}` (the
operation name the conventions give Gemini), with `gen_ai.operation.name`, `gen_ai.provider.name` (`gcp.gemini`,
or `gcp.vertex_ai`), `gen_ai.request.model`, `gen_ai.response.model`, `gen_ai.request.max_tokens` and the usage
(`gen_ai.usage.input_tokens`, `.output_tokens`, `.cache_read.input_tokens`, `.reasoning.output_tokens`). The cost
goes on attempt spans ONLY, as semantic-conventions-genai PR #443 proposes (`gen_ai.usage.cost.amount`, `.currency`
= "USD", `.source` = "local": computed here, from dated list prices, thinking, cached input and the service tier
that served) — so adding up a trace's costs counts each dollar once; Langfuse reads it as
`langfuse.observation.cost_details` (its documented OpenTelemetry mapping). The stage span wraps its attempts
(retries, fallbacks) and carries tierwise's own attributes: stage, tier, route, served service tier, outcome.

Gap: no instrumentation of google-genai or LangChain knows the tier, the route, a fallback chain, or a price that
follows Gemini's billing (thinking, cached input, service tiers, long-context rates); this hook does.

A span opened here is never made the current span: hooks run at separate points (and, async, on the event loop),
so no context token could be detached safely. Attempt spans are children of their stage span, and the stage span of
whatever span is current when the call starts (a LangGraph node's, the user's request's).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from tierwise.calls.hooks import CallHook
from tierwise.calls.plan import Attempts, CallPlan
from tierwise.calls.result import StageResult
from tierwise.state.records import CallRecord
from tierwise.tiers import StageModel

if TYPE_CHECKING:
    from tierwise.tiers import Registry

SCOPE = "tierwise"
RECHECK_SECONDS = 1.0  # a global provider set up after start is used from the next call after this long
OPERATION = "generate_content"  # GenAI semconv: the operation name for Gemini's generateContent


class OpenTelemetryHook(CallHook):
    """Spans for stage calls and attempts. `tracer_provider`: where they go (default: the global one, which emits
    nothing until the application sets a real provider up); or a ready `tracer`."""

    name = "otel"

    def __init__(self, tracer_provider: Any = None, *, tracer: Any = None) -> None:
        self._provider = tracer_provider
        self._tracer = tracer
        self._set_up = False  # a global provider was found set up (it never changes after that)
        self._recheck_at = 0.0  # when to look at the global provider again while none is set up
        self._note = f"otel-{id(self)}"  # Attempts.notes key: this call's stage span and its attempt span in flight

    volatile = True  # the application may set its global provider up after the runtime is built

    def enabled(self, registry: Registry) -> bool:
        """Whether spans would go anywhere: an explicit provider or tracer, or a global provider set up. Until
        then the hook is left out of calls, so an application without OpenTelemetry pays nothing for it."""
        if self._explicit or self._set_up:
            return True  # OpenTelemetry's global provider is set once and for all
        now = time.monotonic()
        if now < self._recheck_at:  # asked on every call: the global is looked at once a second at most
            return False
        from opentelemetry import trace

        self._set_up = not isinstance(trace.get_tracer_provider(),
                                      trace.ProxyTracerProvider | trace.NoOpTracerProvider)
        self._recheck_at = now + RECHECK_SECONDS
        return self._set_up

    def tracer(self) -> Any:
        """The tracer, or None while no provider is set up (the global default: spans would go nowhere)."""
        if self._tracer is not None:
            return self._tracer
        from opentelemetry import trace

        provider = self._provider if self._provider is not None else trace.get_tracer_provider()
        if isinstance(provider, trace.ProxyTracerProvider | trace.NoOpTracerProvider):
            return None  # not set up (yet): checked again on the next call
        from importlib.metadata import PackageNotFoundError, version

        try:
            installed: str | None = version("tierwise")
        except PackageNotFoundError:  # run from a source tree
            installed = None
        tracer = provider.get_tracer(SCOPE, installed)
        if self._provider is not None:
            self._tracer = tracer  # an explicit provider never changes
        return tracer

    def _tracer_for(self, plan: CallPlan) -> Any:
        """This hook's tracer for the call, or None. The default hook (global provider) steps aside when the
        runtime also has one of its own (the application's explicit provider): each span is sent once."""
        if not self._explicit and any(isinstance(h, OpenTelemetryHook) and h._explicit for h in plan.hooks):
            return None
        return self.tracer()

    @property
    def _explicit(self) -> bool:
        return self._provider is not None or self._tracer is not None

    def before_attempt(self, plan: CallPlan, candidate: StageModel, attempts: Attempts) -> None:
        note = attempts.notes.setdefault(self._note, {})
        tracer = note.get("tracer") or self._tracer_for(plan)
        if tracer is None:
            return
        note["tracer"] = tracer
        stage = note.get("stage") or _start_stage(tracer, plan, note)
        _end_attempt(note, None, None)  # one left open by a hook that refused after it started
        from opentelemetry import trace

        note["attempt"] = tracer.start_span(
            f"{OPERATION} {candidate.model_id}", context=trace.set_span_in_context(stage),
            kind=trace.SpanKind.CLIENT, attributes=_request(plan, candidate))

    def after_attempt(self, plan: CallPlan, record: CallRecord, attempts: Attempts) -> None:
        note = attempts.notes.get(self._note)
        if note and note.get("attempt") is not None:
            _end_attempt(note, record, plan)

    def after_call(self, plan: CallPlan, attempts: Attempts, result: StageResult | None,
                   error: BaseException | None) -> None:
        note = attempts.notes.setdefault(self._note, {})
        if "stage" not in note:  # refused before any attempt (a hard cap): the refusal is worth a span too
            tracer = self._tracer_for(plan)
            if tracer is None:
                return
            _start_stage(tracer, plan, note)
        _end_attempt(note, None, None, error)
        stage = note.pop("stage")
        records = attempts.records
        last = records[-1] if records else None
        outcome = "ok" if result is not None else ("refused" if _refused(error) else "failed")
        stage.set_attribute("tierwise.outcome", outcome)
        stage.set_attribute("tierwise.attempts", len(records))
        stage.set_attribute("tierwise.cost_usd", sum(r.cost_usd for r in records))  # the attempts carry gen_ai cost
        if last is not None:
            stage.set_attribute("gen_ai.response.model", last.model)
            stage.set_attribute("tierwise.tier", last.tier)
            stage.set_attribute("tierwise.service_tier", last.service_tier)
        if error is not None:
            _failed(stage, error)
        stage.end()


def _start_stage(tracer: Any, plan: CallPlan, note: dict[str, Any]) -> Any:
    attributes = {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": _provider(plan),
        "gen_ai.request.model": plan.route.model_id,
        "langfuse.observation.type": "span",  # the attempts are the generations: their costs are the ones to add
        "tierwise.stage": plan.stage,
        "tierwise.tier": plan.route.tier,
        "tierwise.requested_service_tier": plan.service_tier,
        **_labels(plan),
    }
    note["stage"] = tracer.start_span(f"tierwise.stage {plan.stage}", attributes=attributes)
    return note["stage"]


def _request(plan: CallPlan, candidate: StageModel) -> dict[str, Any]:
    from tierwise.calls.transport import settings_for

    return {
        "gen_ai.operation.name": OPERATION,
        "gen_ai.provider.name": _provider(plan),
        "gen_ai.request.model": candidate.model_id,
        "gen_ai.request.max_tokens": settings_for(plan, candidate).max_output_tokens,
        "langfuse.observation.type": "generation",
        "tierwise.stage": candidate.stage,
        "tierwise.tier": candidate.tier,
        "tierwise.fallback": candidate.model_id != plan.route.model_id,
        **_labels(plan),
    }


def _end_attempt(note: dict[str, Any], record: CallRecord | None, plan: CallPlan | None,
                 error: BaseException | None = None) -> None:
    span = note.pop("attempt", None)
    if span is None:
        return
    if record is not None:
        span.set_attributes(attempt_attributes(record))
        if record.outcome != "ok":
            from opentelemetry.trace import Status, StatusCode

            span.set_attribute("error.type", record.error_kind or record.outcome)
            span.set_status(Status(StatusCode.ERROR, (record.error or record.outcome)[:200]))
    else:  # never made: a hook refused it (a hard cap) or the call ended first
        span.set_attribute("tierwise.outcome", "refused" if _refused(error) else "not_made")
        if error is not None:
            _failed(span, error)
    span.end()


def attempt_attributes(record: CallRecord) -> dict[str, Any]:
    """What one priced attempt adds to its span: usage, cost (PR #443, and Langfuse's mapping), tierwise's own."""
    cost = {"input": record.input_cost_usd, "output": record.output_cost_usd, "total": record.cost_usd}
    return {
        "gen_ai.response.model": record.model,
        "gen_ai.usage.input_tokens": record.input_tokens,
        "gen_ai.usage.output_tokens": record.output_tokens,
        "gen_ai.usage.cache_read.input_tokens": record.cached_tokens,
        "gen_ai.usage.reasoning.output_tokens": record.thinking_tokens,
        "gen_ai.usage.cost.amount": record.cost_usd,
        "gen_ai.usage.cost.currency": "USD",
        "gen_ai.usage.cost.source": "local",
        "langfuse.observation.cost_details": json.dumps(cost),
        "tierwise.call_id": record.call_id,
        "tierwise.outcome": record.outcome,
        "tierwise.attempt": record.attempt,
        "tierwise.service_tier": record.service_tier,  # the tier that served, and billed, it
        "tierwise.cost.cached_input_usd": record.cached_input_cost_usd,
        "tierwise.cost.thinking_usd": record.thinking_cost_usd,
    }


def _labels(plan: CallPlan) -> dict[str, Any]:
    """The request's labels (route, request id, a tenant's user or team...) as `tierwise.<label>` attributes: text
    values as they are (an attribute is data to every backend), others as their text."""
    out: dict[str, Any] = {}
    labels: Mapping[str, Any] = plan.labels
    for key, value in labels.items():
        if value is None:
            continue
        name = key if key.startswith("tierwise_") else f"tierwise_{key}"
        out["tierwise." + name.removeprefix("tierwise_")] = value if isinstance(value, str | bool | int | float) \
            else str(value)
    if plan.task_type:
        out["tierwise.task_type"] = plan.task_type
    return out


def _provider(plan: CallPlan) -> str:
    return "gcp.vertex_ai" if plan.endpoint.kind == "vertex" else "gcp.gemini"


def _refused(error: BaseException | None) -> bool:
    return error is not None and type(error).__name__ == "BudgetExceededError"  # ledger/ is a layer above


def _failed(span: Any, error: BaseException) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", getattr(error, "kind", None) or type(error).__name__)
    span.set_status(Status(StatusCode.ERROR, str(error)[:200]))
