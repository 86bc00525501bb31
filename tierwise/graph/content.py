"""The content graph: draft cheaply and freely, plan on Flash, and spend Pro only on the text people read.

    draft (lite, temperature 1.2) ─► plan (flash, temperature 0, JSON) ─► finalize (pro, critical) ─► report

`report` adds the bill per stage (`cost_by_stage`) to the totals. Past a soft spend cap, draft and plan move to
the cheapest tier; finalize never does.
"""

from typing import Any

from langgraph.cache.base import BaseCache
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer

from tierwise.calls.runtime import CallRuntime
from tierwise.context import Context
from tierwise.graph.bind import bind_runtime
from tierwise.graph.checked import checked
from tierwise.inputs import check_graph_options, named_arguments
from tierwise.nodes import pipeline
from tierwise.nodes.content import draft, finalize, plan
from tierwise.state import InputState
from tierwise.state.content import ContentOutput, ContentState


@named_arguments
def build_content_graph(
    *, checkpointer: Checkpointer = None, cache: BaseCache[Any] | None = None, name: str = "content",
    runtime: CallRuntime | None = None,
) -> CompiledStateGraph[ContentState, Context, InputState, ContentOutput]:
    check_graph_options(checkpointer=checkpointer, cache=cache, name=name)
    builder = StateGraph(ContentState, context_schema=Context, input_schema=InputState, output_schema=ContentOutput)
    builder.add_node("draft", draft.node)
    builder.add_node("plan", plan.node)
    builder.add_node("finalize", finalize.node)
    builder.add_node("report", pipeline.report)

    builder.add_edge(START, "draft")
    builder.add_edge("draft", "plan")
    builder.add_edge("plan", "finalize")
    builder.add_edge("finalize", "report")
    builder.add_edge("report", END)
    return checked(bind_runtime(builder.compile(checkpointer=checkpointer, cache=cache, name=name), runtime))


# Exported for LangGraph Studio / `langgraph dev` (langgraph.json); no checkpointer, the server brings one.
graph = build_content_graph()
