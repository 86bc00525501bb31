"""The agentic graph: tool-heavy iterative work loops on Flash; one-shot analytical questions go to Pro.

    route (lite) ─tool_loop──────────► step (flash, tools bound) ─tool calls─► tools ─► step …
                 │                                                └─answer────► report
                 └─one_shot_analysis─► analyze (pro, critical) ─────────────────► report

`tools`: LangChain tools (default: a calculator and a search over the local sample corpus, both offline).
"""

from collections.abc import Sequence
from typing import Any, Literal

from langchain_core.tools import BaseTool
from langgraph.cache.base import BaseCache
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from tierwise.calls.runtime import CallRuntime
from tierwise.context import Context
from tierwise.graph.bind import bind_runtime
from tierwise.graph.branching import routed, targets
from tierwise.inputs import check_count, check_graph_options, check_langchain_tools, check_search_tool
from tierwise.nodes import pipeline
from tierwise.nodes.agentic import analyze, builtin, route, run_tools, step
from tierwise.search import SearchTool
from tierwise.state import InputState
from tierwise.state.agentic import AgentOutput, AgentState

MAX_ROUNDS = 50  # rounds of tool calls a request may take at most (`max_rounds`)


def build_agentic_graph(
    *, tools: Sequence[BaseTool] | None = None, search_tool: SearchTool | None = None, max_rounds: int = 5,
    checkpointer: Checkpointer = None, cache: BaseCache[Any] | None = None, name: str = "agentic",
    runtime: CallRuntime | None = None,
) -> CompiledStateGraph[AgentState, Context, InputState, AgentOutput]:
    check_graph_options(checkpointer=checkpointer, cache=cache, name=name)
    max_rounds = check_count(max_rounds, "max_rounds", MAX_ROUNDS)
    offered = list(check_langchain_tools(tools)) if tools is not None else builtin.default_tools(
        check_search_tool(search_tool))
    builder = StateGraph(AgentState, context_schema=Context, input_schema=InputState, output_schema=AgentOutput)
    # route and step branch (routed: they go where after_route / after_step below say).
    builder.add_node("route", routed(route.node, after_route), destinations=targets(after_route))
    builder.add_node("step", routed(step.make(offered, max_rounds), after_step), destinations=targets(after_step))
    builder.add_node("tools", run_tools.make(offered))
    builder.add_node("analyze", analyze.node)
    builder.add_node("report", pipeline.report)

    builder.add_edge(START, "route")
    builder.add_edge("tools", "step")
    builder.add_edge("analyze", "report")
    builder.add_edge("report", END)
    return bind_runtime(builder.compile(checkpointer=checkpointer, cache=cache, name=name), runtime)


def after_route(state: AgentState) -> Literal["step", "analyze", "report"]:
    if state.get("failure"):
        return "report"
    return "analyze" if state.get("intent") == "one_shot_analysis" else "step"


def after_step(state: AgentState) -> Literal["tools", "report"]:
    last = state["messages"][-1] if state.get("messages") else None
    wants_tools = last is not None and bool(getattr(last, "tool_calls", None))
    return "tools" if wants_tools and not state.get("failure") else "report"


# Exported for LangGraph Studio / `langgraph dev` (langgraph.json); no checkpointer, the server brings one.
graph = build_agentic_graph()
