"""The stage API in a user's own graph: stages the user declares, called by name from their own nodes, with the
same registry lookup, pricing, records and spend caps as the built-in nodes."""

from __future__ import annotations

import asyncio
import operator
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Literal

import pytest
from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel
from typing_extensions import TypedDict

import tierwise
from tierwise import CallRecord, Context, call_stage, run_stage

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "own_graph.py"
USER_STAGES = """
[stages.classify]
tier = "flash"
temperature = 0.0
max_output_tokens = 64

[stages.summarize]
tier = "lite"
"""


class Tags(BaseModel):
    topic: Literal["billing", "shipping", "other"]


class State(TypedDict, total=False):
    text: str
    tags: Tags | None
    summary: str
    calls: Annotated[list[CallRecord], operator.add]


async def classify(state: State) -> dict:  # a plain async function as a node
    result = await run_stage("classify", [("system", "Tag it."), ("user", state["text"])], schema=Tags)
    return {"tags": result.value, "calls": result.records}


def summarize(state: State) -> dict:  # and a sync one
    result = call_stage("summarize", [("system", "Summarize it."), ("user", state["text"])])
    return {"summary": result.value, "calls": result.records}


def own_graph():
    builder = StateGraph(State, context_schema=Context)
    builder.add_node("classify", classify)
    builder.add_node("summarize", summarize)
    builder.add_edge(START, "classify")
    builder.add_edge("classify", "summarize")
    builder.add_edge("summarize", END)
    return builder.compile()


RULES = [{"system": "Tag it", "reply": {"topic": "billing"}}, {"system": "Summarize it", "reply": "Double charge."}]


@pytest.fixture
def user_registry(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(USER_STAGES)
    return path


def test_run_stage_is_the_one_call_path():
    assert tierwise.run_stage is tierwise.acall_stage
    assert "run_stage" in tierwise.__all__


def test_user_stages_in_a_user_graph(scripted, user_registry):
    emulator, _ = scripted(RULES)
    context = Context(base_url=emulator.base_url, registry_path=str(user_registry))
    out = asyncio.run(own_graph().ainvoke({"text": "I was charged twice."}, context=context))
    assert out["tags"] == Tags(topic="billing") and out["summary"] == "Double charge."
    assert [(c.stage, c.tier, c.model) for c in out["calls"]] == [
        ("classify", "flash", "gemini-3.8-flash"), ("summarize", "lite", "gemini-3.5-flash-lite")]
    assert all(c.cost_usd > 0 and c.all_pro_cost_usd > c.cost_usd for c in out["calls"])
    assert emulator.requests[0].max_output_tokens == 64 and emulator.requests[0].json_schema is not None


def test_spend_caps_apply_to_user_stages(scripted, user_registry):
    user_registry.write_text(USER_STAGES + "\n[budget]\ndaily_usd = 0.000001\n")
    emulator, _ = scripted(RULES)
    context = Context(base_url=emulator.base_url, registry_path=str(user_registry))
    first = call_stage("summarize", [("system", "Summarize it."), ("user", "x y z")], context=context)
    assert first.record.cost_usd > 0.000001  # the cap is now reached
    out = asyncio.run(own_graph().ainvoke({"text": "I was charged twice."}, context=context))
    assert out["calls"][0].stage == "classify" and out["calls"][0].tier == "lite"  # flash → lite past the cap


def test_an_undeclared_stage_names_the_declared_ones(user_registry):
    with pytest.raises(tierwise.UnknownStageError, match="classify.*summarize"):
        call_stage("clasify", "hi", context=Context(registry_path=str(user_registry)))


def test_the_example_runs_offline():
    out = subprocess.run([sys.executable, str(EXAMPLE)], capture_output=True, text=True, timeout=120, check=True)
    assert "reply: Sorry about the double charge" in out.stdout
    assert "classify  lite" in out.stdout and "reply     pro" in out.stdout
