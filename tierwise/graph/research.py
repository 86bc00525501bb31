"""The research graph: cheap models read, Pro writes — over structured claims, citing documents that exist.

    queries (lite) ─► search (tool) ─► claims (lite, one per document, in parallel) ─► dedupe ─► synthesize (pro)
                                  └─ nothing found ──────────────────────────────────────► dedupe     ─► report

`search`: anything with `search(query, k) -> list[Document]` (tierwise.search.SearchTool); the default is BM25
over the sample corpus shipped in the package — no network. Citations the answer makes to documents its claims
did not come from are removed and listed in `unknown_citations`.
"""

from typing import Any

from langgraph.cache.base import BaseCache
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from langgraph.types import Checkpointer, Send

from tierwise.calls.runtime import CallRuntime
from tierwise.context import Context
from tierwise.graph.bind import bind_runtime
from tierwise.graph.branching import routed
from tierwise.inputs import check_count, check_graph_options, check_search_tool
from tierwise.nodes import pipeline
from tierwise.nodes.research import claims, dedupe, queries, search, synthesize
from tierwise.search import SearchTool, default_search
from tierwise.state import InputState
from tierwise.state.research import ClaimsTask, ResearchOutput, ResearchState


def build_research_graph(
    *, search_tool: SearchTool | None = None, per_query: int = 3, max_documents: int = 6,
    checkpointer: Checkpointer = None, cache: BaseCache[Any] | None = None, name: str = "research",
    runtime: CallRuntime | None = None,
) -> CompiledStateGraph[ResearchState, Context, InputState, ResearchOutput]:
    check_graph_options(checkpointer=checkpointer, cache=cache, name=name)
    per_query = check_count(per_query, "per_query", 50)
    max_documents = check_count(max_documents, "max_documents", 200)
    check_search_tool(search_tool)
    builder = StateGraph(ResearchState, context_schema=Context, input_schema=InputState,
                         output_schema=ResearchOutput)
    builder.add_node("queries", queries.node)
    # search fans out (routed: one claims task per document, see fan_out below).
    builder.add_node("search", routed(search.make(search_tool or default_search(), per_query=per_query,
                                                  max_documents=max_documents), fan_out),
                     destinations=("claims", "dedupe"))
    builder.add_node("claims", claims.node, input_schema=ClaimsTask)
    builder.add_node("dedupe", dedupe.node)
    builder.add_node("synthesize", synthesize.node)
    builder.add_node("report", pipeline.report)

    builder.add_edge(START, "queries")
    builder.add_edge("queries", "search")
    builder.add_edge("claims", "dedupe")
    builder.add_edge("dedupe", "synthesize")
    builder.add_edge("synthesize", "report")
    builder.add_edge("report", END)
    return bind_runtime(builder.compile(checkpointer=checkpointer, cache=cache, name=name), runtime)


def fan_out(state: ResearchState) -> list[Send] | str:
    """One claims task per document; straight to dedupe when there is nothing to read (or the request failed)."""
    if state.get("failure") or not state.get("documents"):
        return "dedupe"
    labels = {key: value for key, value in state.items() if key in claims.LABELS and value is not None}
    return [Send("claims", {**labels, "document": document}) for document in state["documents"]]


# Exported for LangGraph Studio / `langgraph dev` (langgraph.json); no checkpointer, the server brings one.
graph = build_research_graph()
