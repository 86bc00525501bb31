"""The graphs `tierwise run --graph NAME` (and langgraph.json) know, built by name."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierwise.errors import TierwiseError

if TYPE_CHECKING:  # graphs are built (and LangGraph imported) only when asked for
    from langgraph.graph.state import CompiledStateGraph

    from tierwise.calls.runtime import CallRuntime
    from tierwise.context import Context

GRAPHS = ("main", "content", "research", "agentic")


def build_named(name: str, *, corpus: str | None = None,
                runtime: CallRuntime | None = None) -> CompiledStateGraph[Any, Context, Any, Any]:
    """The compiled graph called `name`, bound to `runtime`; `corpus`: a folder of .md/.txt files for research and
    agentic."""
    if name not in GRAPHS:
        raise TierwiseError(f"unknown graph {name!r}; choose {', '.join(GRAPHS[:-1])} or {GRAPHS[-1]}")
    if corpus is not None and name not in ("research", "agentic"):
        raise TierwiseError("--corpus goes with --graph research or --graph agentic")
    search = None
    if corpus is not None:
        from tierwise.search import FolderSearch

        search = FolderSearch(corpus)
    if name == "content":
        from .content import build_content_graph

        return build_content_graph(runtime=runtime)
    if name == "research":
        from .research import build_research_graph

        return build_research_graph(search_tool=search, runtime=runtime)
    if name == "agentic":
        from .agentic import build_agentic_graph

        return build_agentic_graph(search_tool=search, runtime=runtime)
    from .graph import build_graph

    return build_graph(name="tierwise", runtime=runtime)
