"""Price one attempt's usage into a CallRecord: the model's dated list price at the service tier it ran on,
beside the counterfactual (the same tokens on the top tier, standard service)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from tierwise.state.records import CallRecord
from tierwise.tiers import Cost, StageModel, Usage, price, price_parts
from tierwise.tiers.pricing import batch_parts, is_cache_hit, served_tier

from .failures import Failure
from .plan import CallPlan
from .transport import settings_for

Outcome = Literal["ok", "unusable", "error"]


def usage_of(message: Any) -> Usage:
    """LangChain's usage metadata → billable counts (output_tokens already includes thinking)."""
    return usage_from(getattr(message, "usage_metadata", None) or {})


def usage_from(meta: Mapping[str, Any]) -> Usage:
    """A LangChain usage dict (a message's `usage_metadata`, or a trace's copy of it) → billable counts."""
    details_in = meta.get("input_token_details") or {}
    details_out = meta.get("output_token_details") or {}
    return Usage(
        input_tokens=int(meta.get("input_tokens") or 0),
        output_tokens=int(meta.get("output_tokens") or 0),
        thinking_tokens=int(details_out.get("reasoning") or 0),
        cached_tokens=int(details_in.get("cache_read") or 0),
        cache_hit=is_cache_hit(meta),  # a LangChain cache hit replays usage; it costs nothing
    )


def attempt_cost(plan: CallPlan, candidate: StageModel, usage: Usage, reported: Any = None,
                 today: date | None = None) -> Cost:
    """One attempt's bill, itemised, at the service tier that served it: `reported` (the response's
    x-gemini-service-tier, calls/served.py), else the one sent (a model that does not offer the plan's tier was sent
    standard). A Batch API attempt (`plan.processing == "batch"`) is billed at genai-prices' batch rates."""
    if plan.processing == "batch":
        return batch_parts(candidate.model_id, candidate.model, usage, today or date.today())
    tier = served_tier(settings_for(plan, candidate).service_tier, reported)
    return price_parts(candidate.model, usage, today or date.today(), service_tier=tier,
                       factors=plan.registry.data.service_tiers)


def priced_record(plan: CallPlan, candidate: StageModel, attempt: int, usage: Usage, seconds: float,
                  outcome: Outcome, failure: Failure | None, reported: Any = None,
                  cost: Cost | None = None, call_id: str | None = None) -> CallRecord:
    """One attempt as a CallRecord. `cost`: its bill as already priced for the trace (calls/tracecost.py), so the
    trace and the record agree to the cent; else priced here (`attempt_cost`). `call_id`: a Batch API attempt's
    request key, so that the same request answered again after a crash is one ledger row."""
    today, factors = date.today(), plan.registry.data.service_tiers
    cost = cost or attempt_cost(plan, candidate, usage, reported, today)
    return CallRecord(
        call_id=call_id or uuid.uuid4().hex,
        stage=candidate.stage,
        tier=candidate.tier,
        model=candidate.model_id,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        thinking_tokens=usage.thinking_tokens,
        cached_tokens=usage.cached_tokens,
        cost_usd=cost.total_usd,
        input_cost_usd=cost.input_usd,
        output_cost_usd=cost.output_usd,
        cached_input_cost_usd=cost.cached_input_usd,
        thinking_cost_usd=cost.thinking_usd,
        service_tier=cost.service_tier,
        all_pro_cost_usd=price(plan.registry.top_model, usage, today, factors=factors),  # Pro, standard
        latency_ms=round(seconds * 1000, 3),
        outcome=outcome,
        error=failure.message if failure else None,
        error_kind=failure.kind if failure else None,
        attempt=attempt,
        fallback=candidate.model_id != plan.route.model_id,
        task_type=plan.task_type,
        purpose=plan.labels.get("purpose"),
        processing=plan.processing,
    )
