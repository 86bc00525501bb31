"""Search tools for the research and agentic graphs: anything with `search(query, k) -> list[Document]`.

The offline default ranks a local folder of .md/.txt files with BM25 (no network, no extra dependency); the
package ships a small sample corpus so `tierwise run --graph research` works out of the box.
"""

from __future__ import annotations

from tierwise.state.research import Document

from .base import SearchTool
from .folder import FolderSearch, default_corpus, default_search

__all__ = ["Document", "FolderSearch", "SearchTool", "default_corpus", "default_search"]
