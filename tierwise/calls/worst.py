"""The most one attempt can be billed, priced before it is made: what a spend guard reserves against a hard cap.

Input: at most one token per UTF-8 byte of everything sent (the messages, the output schema, the tools), plus a
few per message for the turn markers. Gemini's tokenizer never spends more than one token on a byte (text it does
not know falls back to one token per byte), so this bounds the prompt from above; it overstates input by about
4x, which is cheap next to the output bound. Non-text parts (images, files) count their serialized size, which
is far above what Gemini bills for them.

Output: `max_output_tokens`, thinking included. In Gemini, `maxOutputTokens` caps candidates + thoughts together
(usageMetadata.candidatesTokenCount + thoughtsTokenCount): a call whose thinking uses the whole limit ends with
finishReason MAX_TOKENS and no text. Measured on gemini-3-flash-preview (googleapis/python-genai#2062: with
max_output_tokens 1024, ~906 thinking tokens and the answer cut at 1024 in total) and relied on by clients that
raise the limit when thinking is on (NousResearch/hermes-agent#87209, "thought tokens are billed against
maxOutputTokens"); Google's thinking guide suggests the two are separate, which the measurements contradict.
Thinking is billed at the output rate, so `max_output_tokens` at the output rate is the bound.

Priced with `tierwise.tiers.price` for the model and service tier that will run, so a long prompt on Pro is
reserved at its long-context rates and a priority call at its surcharge.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from tierwise.tiers import StageModel, Usage, price
from tierwise.tiers.pricing import batch_price, today

from .plan import CallPlan

TOKENS_PER_MESSAGE = 16  # role and turn markers around each message: a generous bound


def worst_case_usage(plan: CallPlan, candidate: StageModel, output_tokens: int | None = None) -> Usage:
    """The largest usage one attempt of `candidate` can be billed for (with `output_tokens` as its output limit
    instead of the stage's, if given)."""
    limit = candidate.spec.max_output_tokens if output_tokens is None else output_tokens
    return Usage(input_tokens=prompt_token_bound(plan), output_tokens=limit)


def worst_case_usd(plan: CallPlan, candidate: StageModel, on: date | None = None,
                   output_tokens: int | None = None) -> float:
    """The largest cost one attempt of `candidate` can have, at the plan's service tier (or batch rates)."""
    if plan.processing == "batch":
        return batch_price(candidate.model_id, candidate.model, worst_case_usage(plan, candidate, output_tokens),
                           on or today())
    return price(candidate.model, worst_case_usage(plan, candidate, output_tokens), on or today(),
                 service_tier=plan.service_tier, factors=plan.registry.data.service_tiers)


def output_tokens_within(plan: CallPlan, candidate: StageModel, usd: float, on: date | None = None) -> int:
    """The largest output limit (at most the stage's) whose worst case costs at most `usd`; 0 if none does.
    The price is affine in output tokens for a given input (the long-context rate depends on input only)."""
    day = on or today()
    top = candidate.spec.max_output_tokens
    if worst_case_usd(plan, candidate, day, top) <= usd:
        return top
    base = worst_case_usd(plan, candidate, day, 0)
    if base > usd:
        return 0
    per_token = (worst_case_usd(plan, candidate, day, top) - base) / top
    tokens = min(top, int((usd - base) / per_token))
    while tokens > 0 and worst_case_usd(plan, candidate, day, tokens) > usd:  # float rounding: never above `usd`
        tokens -= 1
    return tokens


def prompt_token_bound(plan: CallPlan) -> int:
    tokens = sum(_content_bytes(_content(m)) + _tool_call_bytes(m) + TOKENS_PER_MESSAGE for m in plan.messages)
    if plan.schema is not None:
        tokens += len(json.dumps(plan.schema.model_json_schema()).encode())  # type: ignore[attr-defined]
    for tool in plan.tools or ():
        tokens += len(_tool_json(tool).encode())
    return tokens


def _content(message: Any) -> Any:
    return message[1] if isinstance(message, tuple) else message.content


def _tool_call_bytes(message: Any) -> int:
    """An agent's earlier turns carry function calls, sent back to the model as input."""
    calls = getattr(message, "tool_calls", None)
    return len(json.dumps(calls, default=str).encode()) if calls else 0


def _content_bytes(content: Any) -> int:
    if isinstance(content, str):
        return len(content.encode())
    if isinstance(content, list):
        total = 0
        for part in content:
            if isinstance(part, str):
                total += len(part.encode())
            elif isinstance(part, dict) and part.get("type") == "text":
                total += len(str(part.get("text", "")).encode())
            else:
                total += len(json.dumps(part, default=str).encode())
        return total
    return len(json.dumps(content, default=str).encode())


def _tool_json(tool: Any) -> str:
    from langchain_core.utils.function_calling import convert_to_openai_tool

    try:
        return json.dumps(convert_to_openai_tool(tool), default=str)
    except Exception:  # noqa: BLE001 - anything the client can bind, measured as its text
        return json.dumps(str(tool))
