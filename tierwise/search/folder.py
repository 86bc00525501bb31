"""The offline default search tool: BM25 over the .md and .txt files of a folder (read once, on first search)."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

from tierwise.errors import InvalidInputError
from tierwise.state.research import Document

from .bm25 import BM25, tokenize

SUFFIXES = (".md", ".txt")


class FolderSearch:
    """Each file is one document; its id is its path inside the folder without the suffix (`guides/setup`)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder).expanduser()
        if not self.folder.is_dir():
            raise InvalidInputError(f"search corpus {self.folder} is not a folder")
        self._documents: list[Document] | None = None
        self._index: BM25 | None = None
        self._lock = threading.Lock()

    @property
    def documents(self) -> list[Document]:
        return self._load()[0]

    def search(self, query: str, k: int = 5) -> list[Document]:
        documents, index = self._load()
        return [documents[i] for i, _ in index.top(tokenize(query), k)]

    def _load(self) -> tuple[list[Document], BM25]:
        with self._lock:
            if self._documents is None or self._index is None:
                documents = [_read(path, self.folder) for path in _files(self.folder)]
                # The title counts twice: it says what the document is about.
                self._index = BM25([tokenize(f"{d.title} {d.title} {d.text}") for d in documents])
                self._documents = documents
            return self._documents, self._index


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)


def _read(path: Path, folder: Path) -> Document:
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    first = text.splitlines()[0] if text else ""
    title = first.lstrip("#").strip() if first.startswith("#") else path.stem.replace("-", " ").replace("_", " ")
    return Document(id=path.relative_to(folder).with_suffix("").as_posix(), title=title, text=text,
                    source=str(path))


def default_corpus() -> Path:
    """The sample corpus shipped in the package."""
    return Path(str(resources.files(__name__.rpartition(".")[0]).joinpath("corpus")))


def default_search() -> FolderSearch:
    """A search over the sample corpus (a few small files: indexed when a graph is built, kept by that graph)."""
    return FolderSearch(default_corpus())
