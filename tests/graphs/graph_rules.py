"""Fragments of the prebuilt pipelines' system prompts (tierwise/prompts/*.md) that scripted rules match on, and
the checks every pipeline's result must pass."""

from __future__ import annotations

from pathlib import Path

import pytest

from tierwise import load_registry
from tierwise.tiers import Usage, price

DRAFT, FORMAT, FINALIZE = "lively first draft", "plan the format of a draft", "final, published version"
QUERIES, CLAIMS, SYNTHESIZE = "into search queries", "key claims of one document", "research question from claims"
ROUTE, STEP, ANALYZE = "route a request to one of two paths", "tool-using assistant", "analytical questions in one"

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"
PLAN = {"title": "Meet the new pricing page", "category": "announcement", "tags": ["pricing", "product"],
        "format": "blog_post", "tone": "friendly"}


def content_rules(*, plan=PLAN, final="The final post.", draft="A rough draft about pricing."):
    return [{"system": DRAFT, "reply": draft},
            {"system": FORMAT, "reply": plan},
            {"system": FINALIZE, "reply": final, "thoughts": 30}]


def tiers(result) -> list[tuple[str, str]]:
    return [(c.stage, c.tier) for c in result["calls"]]


def assert_priced(result, registry_path=None):
    """Every record is priced from its tokens, the totals add up, and so does the per-stage breakdown."""
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
    by_stage = result["cost_by_stage"]
    assert list(by_stage) == list(dict.fromkeys(c.stage for c in result["calls"]))
    for stage, row in by_stage.items():
        mine = [c for c in result["calls"] if c.stage == stage]
        assert row["calls"] == len(mine)
        assert row["tiers"] == list(dict.fromkeys(c.tier for c in mine))
        assert row["cost_usd"] == pytest.approx(sum(c.cost_usd for c in mine))
    assert sum(row["cost_usd"] for row in by_stage.values()) == pytest.approx(result["total_cost_usd"])
