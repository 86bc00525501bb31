"""search: runs every query through the search tool (no model call) and keeps the best distinct documents,
taking each query's results in turn so that one broad query does not crowd out the others."""

from __future__ import annotations

from itertools import zip_longest

from tierwise.search import SearchTool


def make(tool: SearchTool, *, per_query: int = 3, max_documents: int = 6):
    def node(state: dict) -> dict:
        ranked = [tool.search(query, per_query) for query in state.get("queries", [])]
        found = {}
        for row in zip_longest(*ranked):
            for document in row:
                if document is not None:
                    found.setdefault(document.id, document)
        return {"steps": ["search"], "documents": list(found.values())[:max_documents]}

    return node
