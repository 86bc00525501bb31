"""The tierwise graph: triage routes each request to the stages, and tiers, it deserves.

    triage ─simple/moderate─► draft ─► judge ─score≥t─► respond
       │                        │        └─score<t──► polish ─► respond
       │                        └─moderate, conf<t──► polish
       ├─extract──► extract ─► reason ─► respond
       └─complex──► reason ─► respond
"""

from langgraph.graph import END, START, StateGraph

from tierwise.context import Context
from tierwise.nodes import draft, extract, judge, polish, reason, respond, triage
from tierwise.state import Extraction, InputState, OutputState, State


def build_graph(*, extract_schema: type = Extraction, checkpointer=None, cache=None, cache_policy=None,
                name: str = "tierwise"):
    """The compiled graph. `extract_schema`: your pydantic model for the extract stage. `cache` + `cache_policy`:
    LangGraph node caching of the model stages (a hit calls no model, so nothing is billed twice)."""
    builder = StateGraph(State, context_schema=Context, input_schema=InputState, output_schema=OutputState)
    stage = {"cache_policy": cache_policy}  # model stages may be cached; respond only adds up
    builder.add_node("triage", triage.node, destinations=("draft", "extract", "reason"), **stage)
    builder.add_node("extract", extract.make(extract_schema), **stage)
    builder.add_node("reason", reason.node, **stage)
    builder.add_node("draft", draft.node, destinations=("judge", "polish"), **stage)
    builder.add_node("judge", judge.node, destinations=("respond", "polish"), **stage)
    builder.add_node("polish", polish.node, **stage)
    builder.add_node("respond", respond.node)

    # triage, draft and judge route themselves (routes.after_triage/after_draft/after_judge) to the
    # destinations listed above; the rest is fixed.
    builder.add_edge(START, "triage")
    builder.add_edge("extract", "reason")
    builder.add_edge("reason", "respond")
    builder.add_edge("polish", "respond")
    builder.add_edge("respond", END)
    return builder.compile(checkpointer=checkpointer, cache=cache, name=name)


# Exported for LangGraph Studio / `langgraph dev` (langgraph.json); no checkpointer, the server brings one.
graph = build_graph()
