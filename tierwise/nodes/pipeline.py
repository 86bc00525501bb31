"""What the prebuilt pipelines (content, research, agentic) share: the labels their first node sets, and the
closing node that totals the bill per stage. Neither calls a model."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from tierwise.calls.api import current_context
from tierwise.state.pipeline import PipelineOutput, StageCost
from tierwise.state.records import CallRecord
from tierwise.tiers.economics import totals

from .base import ledgers, plain_node, registry


def begin(state: Mapping[str, Any], route: str) -> dict[str, str]:
    """The route label and request id the ledger groups this request's calls by (a caller may pass its own id)."""
    return {"route": route, "request_id": state.get("request_id") or uuid.uuid4().hex}


def cost_by_stage(calls: Iterable[CallRecord]) -> dict[str, StageCost]:
    """Each stage's calls, tokens and dollars, in the order the stages first ran."""
    out: dict[str, StageCost] = {}
    for call in calls:
        row = out.setdefault(call.stage, StageCost(calls=0, tiers=[], models=[], input_tokens=0, output_tokens=0,
                                                   cost_usd=0.0, all_pro_cost_usd=0.0))
        row["calls"] += 1
        if call.tier not in row["tiers"]:
            row["tiers"].append(call.tier)
        if call.model not in row["models"]:
            row["models"].append(call.model)
        row["input_tokens"] += call.input_tokens
        row["output_tokens"] += call.output_tokens
        row["cost_usd"] = round(row["cost_usd"] + call.cost_usd, 10)
        row["all_pro_cost_usd"] = round(row["all_pro_cost_usd"] + call.all_pro_cost_usd, 10)
    return out


def _report(state: PipelineOutput) -> dict[str, Any]:
    """The last node: the answer (none if a critical stage failed: no cheaper text in its place) and the bill."""
    calls = state.get("calls", [])
    return {
        "steps": ["report"],
        "answer": "" if state.get("failure") else (state.get("answer") or ""),
        "cost_by_stage": cost_by_stage(calls),
        **totals(calls, state.get("route"), registry(current_context()), ledgers()),
    }


report = plain_node("report", _report)
