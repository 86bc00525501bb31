"""`tierwise run --graph ...` on the scripted demo backend, and the graphs' export for LangGraph Studio."""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
from graph_rules import CORPUS
from typer.testing import CliRunner

from tierwise.cli import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("graph", "text", "steps", "stages"),
    [
        ("content", "Announce our pricing page", "draft → plan → finalize → report",
         ["content_draft", "content_plan", "content_finalize"]),
        ("research", "How are thinking tokens billed?", "queries → search → claims",
         ["research_queries", "research_claims", "research_synthesize"]),
        ("agentic", "calculate 12 * 12", "route → step → tools → step → report", ["agent_route", "agent_step"]),
        ("agentic", "Compare Flex and Batch: which should we use?", "route → analyze → report",
         ["agent_route", "analyze"]),
    ],
)
def test_each_graph_runs_offline_from_the_cli(graph, text, steps, stages):
    result = runner.invoke(app, ["run", "--graph", graph, "--backend", "scripted", text])
    assert result.exit_code == 0, result.output
    assert steps in result.output and "same calls all on Pro" in result.output and "by stage:" in result.output
    data = json.loads(runner.invoke(app, ["run", "--graph", graph, "--backend", "scripted", "--json", text]).stdout)
    assert data["answer"] and list(data["cost_by_stage"]) == stages
    assert data["total_cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in data["calls"]))


def test_research_from_the_cli_cites_existing_documents_of_a_given_corpus():
    args = ["run", "--graph", "research", "--backend", "scripted", "--corpus", str(CORPUS), "--json",
            "How many watts does a solar panel produce?"]
    data = json.loads(runner.invoke(app, args).stdout)
    assert data["citations"]
    for citation in data["citations"]:
        assert Path(citation["source"]).is_file() and f"[{citation['id']}]" in data["answer"]


def test_calculator_answer_from_the_demo_loop():
    result = runner.invoke(app, ["run", "--graph", "agentic", "--backend", "scripted", "calculate 12 * 12"])
    assert "The result is 144." in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--graph", "poem", "hi"], "error: unknown graph 'poem'; choose main, content, research or agentic"),
        (["run", "--graph", "content", "--corpus", ".", "hi"], "error: --corpus goes with --graph research"),
        (["run", "--graph", "research", "--corpus", "nowhere", "hi"], "is not a folder"),
        (["run", "--graph", "content", "   "], "error: input is empty"),
    ],
)
def test_mistakes_get_one_line_and_exit_2(args, message):
    result = runner.invoke(app, [*args, "--backend", "scripted"])
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output


def test_langgraph_json_exports_every_graph_without_a_checkpointer():
    config = json.loads((ROOT / "langgraph.json").read_text())
    expected = {"content": {"draft", "plan", "finalize", "report"},
                "research": {"queries", "search", "claims", "dedupe", "synthesize", "report"},
                "agentic": {"route", "step", "tools", "analyze", "report"}}
    for name, nodes in expected.items():
        where, _, attr = config["graphs"][name].partition(":")  # a file path or a module path
        if where.endswith(".py"):
            assert (ROOT / where).is_file()
            where = where.removeprefix("./").removesuffix(".py").replace("/", ".")
        graph = getattr(importlib.import_module(where), attr)
        assert set(graph.get_graph().nodes) >= nodes and graph.checkpointer is None
