"""Price one attempt's usage into a CallRecord: the model's dated list price at the service tier it ran on,
beside the counterfactual (the same tokens on the top tier, standard service).

Usage comes from the response bodies when the call path saw them (calls/served.py: per HTTP request, with audio
tokens and grounding queries, each request priced on its own), else from LangChain's totals. Prices are read on
the UTC date of the attempt, the clock the spend caps and reports use."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from tierwise.state.records import CallRecord
from tierwise.tiers import Cost, StageModel, Usage, price, price_parts
from tierwise.tiers.pricing import add_costs, batch_parts, is_cache_hit, served_tier
from tierwise.tiers.pricing import today as utc_today

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


def usage_of_body(meta: Mapping[str, Any], searches: int = 0) -> Usage:
    """One response's `usageMetadata` → billable counts, as LangChain counts them (input = prompt + tool-use
    prompt, output = candidates + thoughts) plus what LangChain drops: audio tokens by modality, cached audio."""
    get = meta.get
    prompt, tool_prompt = get("promptTokenCount"), get("toolUsePromptTokenCount")
    candidates, thoughts = get("candidatesTokenCount"), get("thoughtsTokenCount")
    cached = get("cachedContentTokenCount")
    prompt = int(prompt) if isinstance(prompt, _NUMBER) else 0
    tool_prompt = int(tool_prompt) if isinstance(tool_prompt, _NUMBER) else 0
    candidates = int(candidates) if isinstance(candidates, _NUMBER) else 0
    thoughts = int(thoughts) if isinstance(thoughts, _NUMBER) else 0
    cached = int(cached) if isinstance(cached, _NUMBER) else 0
    return Usage(
        input_tokens=prompt + tool_prompt,
        output_tokens=candidates + thoughts,
        thinking_tokens=thoughts,
        cached_tokens=cached,
        audio_tokens=_audio(meta.get("promptTokensDetails")) + _audio(meta.get("toolUsePromptTokensDetails")),
        cached_audio_tokens=_audio(meta.get("cacheTokensDetails")),
        search_queries=searches,
    )


_NUMBER = (int, float)  # a token count in a response body (JSON numbers)


def _audio(details: Any) -> int:
    """The AUDIO tokens of a `*TokensDetails` list (modality counts), 0 if it has none."""
    if not isinstance(details, list):
        return 0
    return sum(int(d.get("tokenCount") or 0) for d in details if isinstance(d, dict) and d.get("modality") == "AUDIO")


def hop_usages(seen: Sequence[Any]) -> list[tuple[Usage, str | None]] | None:
    """(usage, served tier) per HTTP request of the call, or None when any response's usage was not read whole
    (then LangChain's totals are billed)."""
    if not seen or any(s.usage is None or not s.complete for s in seen):
        return None
    return [(usage_of_body(s.usage, len(s.searches)), s.tier) for s in seen]


def total(usages: Sequence[Usage]) -> Usage:
    """The usage of several requests, summed (for the record; each request is priced on its own)."""
    return Usage(**{name: sum(getattr(u, name) for u in usages) for name in (
        "input_tokens", "output_tokens", "thinking_tokens", "cached_tokens", "audio_tokens", "cached_audio_tokens",
        "search_queries")})


def attempt_cost(plan: CallPlan, candidate: StageModel, usage: Usage, reported: Any = None,
                 today: date | None = None) -> Cost:
    """One request's bill, itemised, at the service tier that served it: `reported` (the response's
    x-gemini-service-tier, calls/served.py), else the one sent (a model that does not offer the plan's tier was sent
    standard). A Batch API attempt (`plan.processing == "batch"`) is billed at genai-prices' batch rates."""
    if plan.processing == "batch":
        return batch_parts(candidate.model_id, candidate.model, usage, today or utc_today())
    # never above the tier sent: a dearer or unoffered reported tier is logged and billed at the lower price
    tier = served_tier(settings_for(plan, candidate).service_tier, reported, offered=candidate.model.service_tiers,
                       factors=plan.registry.data.service_tiers, model=candidate.model_id)
    return price_parts(candidate.model, usage, today or utc_today(), service_tier=tier,
                       factors=plan.registry.data.service_tiers)


def call_cost(plan: CallPlan, candidate: StageModel, usage: Usage | None, reported: Any = None,
              seen: Sequence[Any] = (), today: date | None = None,
              message: Any = None) -> tuple[Cost, Usage, list[Usage]]:
    """One attempt's bill, its usage and its requests' usages: from each HTTP response's own body when the call
    path read them all (`seen`, calls/served.py: audio, grounding, each request priced on its own), else from
    LangChain's totals (`usage`; None: read from the reply `message` only then) at the `reported` tier. (A
    LangChain cache hit made no HTTP request, so it has nothing in `seen`.)"""
    hops = hop_usages(seen) if usage is None or not usage.cache_hit else None
    if hops is None:
        usage = usage_of(message) if usage is None else usage
        return attempt_cost(plan, candidate, usage, reported, today), usage, [usage]
    if len(hops) == 1:  # the usual case: one request, its own bill (no sums to add up)
        hop, tier = hops[0]
        return attempt_cost(plan, candidate, hop, tier, today), hop, [hop]
    cost = add_costs([attempt_cost(plan, candidate, hop, tier, today) for hop, tier in hops])
    return cost, total([hop for hop, _ in hops]), [hop for hop, _ in hops]


def priced_record(plan: CallPlan, candidate: StageModel, attempt: int, usage: Usage | None, seconds: float,
                  outcome: Outcome, failure: Failure | None, reported: Any = None,
                  cost: Cost | None = None, seen: Sequence[Any] = (), call_id: str | None = None,
                  message: Any = None) -> CallRecord:
    """One attempt as a CallRecord, priced on the UTC date it started. `cost`: its bill as already priced for the
    trace (calls/tracecost.py, with the same `call_cost`), so the trace and the record agree to the cent; else
    priced here. `call_id`: a Batch API attempt's request key, so that the same request answered again after a
    crash is one ledger row."""
    now, factors = datetime.now(UTC), plan.registry.data.service_tiers
    today = now.date()
    priced, usage, requests = call_cost(plan, candidate, usage, reported, seen, today, message)
    cost = cost or priced
    top = plan.registry.top_model
    if top is candidate.model and cost is priced and priced.service_tier == "standard" and plan.processing != "batch":
        all_pro = priced.total_usd  # the top model at standard rates already: the same bill
    elif len(requests) == 1:
        all_pro = price(top, requests[0], today, factors=factors)
    else:
        all_pro = sum(price(top, request, today, factors=factors) for request in requests)
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
        all_pro_cost_usd=round(all_pro, 10),  # Pro, standard
        latency_ms=round(seconds * 1000, 3),
        outcome=outcome,
        error=failure.message if failure else None,
        error_kind=failure.kind if failure else None,
        attempt=attempt,
        fallback=candidate.model_id != plan.route.model_id,
        task_type=plan.task_type,
        purpose=plan.labels.get("purpose"),
        started_at=now,
        processing=plan.processing,
    )
