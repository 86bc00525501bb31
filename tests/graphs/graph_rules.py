"""Fragments of the prebuilt pipelines' system prompts (tierwise/prompts/*.md) that scripted rules match on, and
the checks every pipeline's result must pass."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipeline import assert_calls_priced

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
    assert_calls_priced(result, registry_path)
    by_stage = result["cost_by_stage"]
    assert list(by_stage) == list(dict.fromkeys(c.stage for c in result["calls"]))
    for stage, row in by_stage.items():
        mine = [c for c in result["calls"] if c.stage == stage]
        assert row["calls"] == len(mine)
        assert row["tiers"] == list(dict.fromkeys(c.tier for c in mine))
        assert row["cost_usd"] == pytest.approx(sum(c.cost_usd for c in mine))
    assert sum(row["cost_usd"] for row in by_stage.values()) == pytest.approx(result["total_cost_usd"])
