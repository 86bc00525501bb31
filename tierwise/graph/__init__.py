"""Wiring only: nodes, edges, routing, compile. The graph builders, and what a checkpointer needs:

    from tierwise.graph import build_graph, postgres_checkpointer
    with postgres_checkpointer("postgresql://user@db/tierwise") as saver:
        graph = build_graph(checkpointer=saver, runtime=rt)

Imports are lazy: nothing here builds a graph until asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "build_graph": "tierwise.graph.graph",
    "build_content_graph": "tierwise.graph.content",
    "build_research_graph": "tierwise.graph.research",
    "build_agentic_graph": "tierwise.graph.agentic",
    "bind_runtime": "tierwise.graph.bind",
    "postgres_checkpointer": "tierwise.graph.checkpoints",
    "serializer": "tierwise.graph.serde",
    "state_types": "tierwise.graph.serde",
}

__all__ = ["bind_runtime", "build_agentic_graph", "build_content_graph", "build_graph", "build_research_graph",
           "postgres_checkpointer", "serializer", "state_types"]

if TYPE_CHECKING:
    from .agentic import build_agentic_graph
    from .bind import bind_runtime
    from .checkpoints import postgres_checkpointer
    from .content import build_content_graph
    from .graph import build_graph
    from .research import build_research_graph
    from .serde import serializer, state_types

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
