"""search: runs every query through the search tool (no model call) and keeps the best distinct documents,
taking each query's results in turn so that one broad query does not crowd out the others."""

from __future__ import annotations

from itertools import zip_longest

from tierwise.search import SearchTool
from tierwise.state.research import Document, ResearchState

from ..base import PlainNode


def make(tool: SearchTool, *, per_query: int = 3, max_documents: int = 6) -> PlainNode[ResearchState]:
    def node(state: ResearchState) -> ResearchState:
        ranked = [tool.search(query, per_query) for query in state.get("queries", [])]
        found: dict[str, Document] = {}
        for row in zip_longest(*ranked):
            for document in row:
                if document is not None:
                    found.setdefault(document.id, document)
        return {"steps": ["search"], "documents": list(found.values())[:max_documents]}

    return node
