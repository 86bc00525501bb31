"""The agentic graph through the real Gemini client: a tool loop on Flash (function calls and their results over
the wire), one-shot analysis on Pro, and the router that splits them."""

from __future__ import annotations

import asyncio

import pytest
from graph_rules import ANALYZE, CORPUS, ROUTE, STEP, assert_priced, tiers
from langchain_core.tools import tool

from tierwise import build_agentic_graph
from tierwise.nodes.agentic import builtin, run_tools
from tierwise.search import FolderSearch

ROUTER = [
    {"system": ROUTE, "user": "(?i)calculate|look up|order", "reply": {"intent": "tool_loop", "confidence": "high"}},
    {"system": ROUTE, "user": "(?i)compare", "reply": {"intent": "one_shot_analysis", "confidence": "high"}},
]
LOOP = [  # most advanced step first: a tool result came back → answer; else call a tool
    {"system": STEP, "tool": r"search_documents: \[(?P<id>[\w/-]+)\]", "reply": "See $id."},
    {"system": STEP, "tool": r"calculator: [^=]*= (?P<value>\S+)",
     "tool_calls": [{"name": "search_documents", "args": {"query": "solar panels watts"}}]},
    {"system": STEP, "user": r"calculate (?P<expr>[\d *+]+\d)", "reply": "Calculating.",
     "tool_calls": [{"name": "calculator", "args": {"expression": "$expr"}}]},
]


def graph(**kwargs):
    return build_agentic_graph(search_tool=FolderSearch(CORPUS), **kwargs)


def test_tool_loop_runs_on_flash_with_real_function_calls(scripted):
    emulator, context = scripted(ROUTER + LOOP)
    result = graph().invoke({"input": "Please calculate 17 * 23 and look up solar panels."}, context=context)
    assert result["intent"] == "tool_loop" and result["route"] == "tool_loop"
    assert result["steps"] == ["route", "step", "tools", "step", "tools", "step", "report"]
    assert tiers(result) == [("agent_route", "lite")] + [("agent_step", "flash")] * 3
    assert result["answer"] == "See solar-panels." and result["tool_rounds"] == 2
    assert_priced(result)
    first, second, third = emulator.requests[1:]
    assert {d["name"] for d in first.tools} == {"calculator", "search_documents"}
    assert second.tool == "calculator: 17 * 23 = 391"
    assert third.tool.startswith("calculator: 17 * 23 = 391\nsearch_documents: [solar-panels] Solar panels")


def test_one_shot_analysis_goes_to_pro(scripted):
    emulator, context = scripted(ROUTER + [{"system": ANALYZE, "reply": "Option B.", "thoughts": 200}])
    result = graph().invoke({"input": "Compare heat pumps and gas boilers for an old house."}, context=context)
    assert result["steps"] == ["route", "analyze", "report"]
    assert tiers(result) == [("agent_route", "lite"), ("analyze", "pro")]
    assert result["answer"] == "Option B." and result["calls"][-1].thinking_tokens == 200
    assert not emulator.requests[-1].tools
    assert_priced(result)


def test_an_unusable_route_takes_the_tool_loop_not_pro(scripted):
    _, context = scripted([{"system": ROUTE, "reply": "hmm"}, {"system": STEP, "reply": "Done."}])
    result = graph().invoke({"input": "Something vague."}, context=context)
    assert result["intent"] == "tool_loop"
    assert result["steps"] == ["route", "step", "report"] and result["answer"] == "Done."
    assert all(c.tier != "pro" for c in result["calls"])


def test_the_loop_stops_after_max_rounds_without_an_answer(scripted):
    forever = {"system": STEP, "tool_calls": [{"name": "calculator", "args": {"expression": "1 + 1"}}]}
    _, context = scripted(ROUTER + [forever])
    result = graph(max_rounds=2).invoke({"input": "calculate 1 + 1 forever"}, context=context)
    assert result["steps"] == ["route", "step", "tools", "step", "tools", "step", "report"]
    assert result["answer"] == "" and result["failure"]["kind"] == "max_rounds"


def test_your_own_tools_async(scripted):
    @tool
    def order_status(order_id: str) -> str:
        """The shipping status of an order."""
        return f"order {order_id}: shipped"

    rules = ROUTER + [
        {"system": STEP, "tool": r"order_status: (?P<status>.+)", "reply": "Your $status."},
        {"system": STEP, "user": r"order (?P<id>\d+)", "tool_calls": [{"name": "order_status",
                                                                        "args": {"order_id": "$id"}}]},
    ]
    emulator, context = scripted(rules)
    result = asyncio.run(build_agentic_graph(tools=[order_status]).ainvoke({"input": "Where is order 1234?"},
                                                                           context=context))
    assert result["answer"] == "Your order 1234: shipped."
    assert [d["name"] for d in emulator.requests[1].tools] == ["order_status"]


def test_tool_errors_go_back_to_the_model_as_results():
    @tool
    def broken(x: str) -> str:
        """Always fails."""
        raise RuntimeError("disk on fire")

    runner = run_tools.make([broken])
    calls = [{"name": "broken", "args": {"x": "1"}, "id": "c1"}, {"name": "nope", "args": {}, "id": "c2"}]
    from langchain_core.messages import AIMessage

    state = {"messages": [AIMessage("", tool_calls=calls)]}
    for update in (runner.invoke(state), asyncio.run(runner.ainvoke(state))):
        first, second = update["messages"]
        assert first.status == "error" and "disk on fire" in first.content and first.tool_call_id == "c1"
        assert "unknown tool 'nope'" in second.content
        assert update["tool_rounds"] == 1 and update["steps"] == ["tools"]


@pytest.mark.parametrize(("expression", "value"), [("17 * 23", 391), ("(1 + 2) / 4", 0.75), ("-2 ** 3", -8),
                                                   ("7 // 2 + 7 % 2", 4)])
def test_calculator(expression, value):
    assert builtin.evaluate(expression) == value


@pytest.mark.parametrize("expression", ["__import__('os')", "x + 1", "9 ** 9 ** 9", "[1, 2]"])
def test_calculator_refuses_anything_but_arithmetic(expression):
    with pytest.raises(ValueError):
        builtin.evaluate(expression)
