"""The tierwise graph: triage routes each request to the stages, and tiers, it deserves.

    triage ─simple/moderate─► draft ─► judge ─score≥t─► respond
       │                        │        └─score<t──► polish ─► respond
       │                        └─moderate, conf<t──► polish
       ├─extract──► extract ─► reason ─► respond
       └─complex──► reason ─► respond

Nodes record their decisions in state (`route`, `escalated`); the branches below only read them.
"""

from typing import Any, Literal

from langgraph.cache.base import BaseCache
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import CachePolicy, Checkpointer

from tierwise.calls.runtime import CallRuntime
from tierwise.context import Context
from tierwise.graph.bind import bind_runtime
from tierwise.graph.branching import routed, targets
from tierwise.inputs import check_graph_options
from tierwise.nodes import draft, extract, judge, polish, reason, respond, triage
from tierwise.state import Extraction, InputState, OutputState, State


def build_graph(
    *, extract_schema: type = Extraction, checkpointer: Checkpointer = None, cache: BaseCache[Any] | None = None,
    cache_policy: CachePolicy[Any] | None = None, name: str = "tierwise", runtime: CallRuntime | None = None,
) -> CompiledStateGraph[State, Context, InputState, OutputState]:
    """The compiled graph. `extract_schema`: your pydantic model for the extract stage. `cache` + `cache_policy`:
    LangGraph node caching of the model stages (a hit calls no model, so nothing is billed twice)."""
    check_graph_options(checkpointer=checkpointer, cache=cache, cache_policy=cache_policy, name=name)
    builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    # Model stages may be cached; respond only adds up. triage, draft and judge branch (routed: see below).
    builder.add_node("triage", routed(triage.node, after_triage), destinations=targets(after_triage),
                     cache_policy=cache_policy)
    builder.add_node("extract", extract.make(extract_schema), cache_policy=cache_policy)
    builder.add_node("reason", reason.node, cache_policy=cache_policy)
    builder.add_node("draft", routed(draft.node, after_draft), destinations=targets(after_draft),
                     cache_policy=cache_policy)
    builder.add_node("judge", routed(judge.node, after_judge), destinations=targets(after_judge),
                     cache_policy=cache_policy)
    builder.add_node("polish", polish.node, cache_policy=cache_policy)
    builder.add_node("respond", respond.node)

    builder.add_edge(START, "triage")
    builder.add_edge("extract", "reason")
    builder.add_edge("reason", "respond")
    builder.add_edge("polish", "respond")
    builder.add_edge("respond", END)
    return bind_runtime(builder.compile(checkpointer=checkpointer, cache=cache, name=name), runtime)


# The branches: each deciding node records its decision in state (route, escalated) and goes where these say.
def after_triage(state: State) -> Literal["draft", "extract", "reason"]:
    route = state.get("route", "simple")
    if route == "extract":
        return "extract"
    return "reason" if route == "complex" else "draft"


def after_draft(state: State) -> Literal["judge", "polish"]:
    # Only a moderate request escalates on the draft's own confidence; everything else meets the judge.
    return "polish" if state.get("route") == "moderate" and state.get("escalated") else "judge"


def after_judge(state: State) -> Literal["respond", "polish"]:
    return "polish" if state.get("escalated") else "respond"


# Exported for LangGraph Studio / `langgraph dev` (langgraph.json); no checkpointer, the server brings one.
graph = build_graph()
