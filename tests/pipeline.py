"""Scripted rules that drive the built-in pipeline, one per stage, matched on each node's system prompt."""

from __future__ import annotations

import pytest

from tierwise import load_registry
from tierwise.tiers import Usage, price

# Fragments of each node's system prompt (tierwise/prompts/*.md) that scripted rules match on.
TRIAGE, EXTRACT, DRAFT = "triage step", "extract structured data", "answer requests briefly"
JUDGE, POLISH, REASON = "grade an answer", "You get a request and a draft", "reasoning step"


def pipeline_rules(*, triage, draft=None, judge=None, polish="Polished final answer.", reason="Reasoned answer.",
                   extract=None, thoughts=0):
    """One rule per stage; Pro stages report `thoughts` thinking tokens."""
    rules = [{"system": TRIAGE, "reply": triage}]
    if extract is not None:
        rules.append({"system": EXTRACT, "reply": extract})
    if draft is not None:
        rules.append({"system": DRAFT, "reply": draft})
    if judge is not None:
        rules.append({"system": JUDGE, "reply": judge})
    rules.append({"system": POLISH, "reply": polish, "thoughts": thoughts})
    rules.append({"system": REASON, "reply": reason, "thoughts": thoughts})
    return rules


def assert_calls_priced(result, registry_path=None):
    """Each record's dollars follow from its tokens and the registry's prices; the totals add up."""
    registry = load_registry(registry_path)
    top = registry.data.tiers[registry.top_tier].model
    for call in result["calls"]:
        assert call.input_tokens > 0 and call.output_tokens > 0
        assert call.model == registry.data.tiers[call.tier].model
        usage = Usage(call.input_tokens, call.output_tokens, call.thinking_tokens, call.cached_tokens)
        assert call.cost_usd == pytest.approx(price(registry.model(call.model), usage, call.started_at.date()))
        assert call.all_pro_cost_usd == pytest.approx(price(registry.model(top), usage, call.started_at.date()))
    assert result["total_cost_usd"] == pytest.approx(sum(c.cost_usd for c in result["calls"]))
    assert result["all_pro_cost_usd"] == pytest.approx(sum(c.all_pro_cost_usd for c in result["calls"]))
