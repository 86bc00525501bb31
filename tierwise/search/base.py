"""The search tool protocol: plug in a web search, a vector store or an internal API by implementing one method."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from tierwise.state.research import Document


@runtime_checkable
class SearchTool(Protocol):
    def search(self, query: str, k: int = 5) -> list[Document]:
        """The best `k` documents for `query`, best first. Ids must be unique and stable: answers cite them."""
        ...
