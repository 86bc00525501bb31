"""Record and replay: Gemini exchanges stored as JSON files, served back without the upstream.

Each exchange is keyed on what the client asked (API, model, method, streamed or not, and the request
body with its volatile parts left out: function-call ids and thought signatures). API keys travel in
headers, which are never part of the key nor stored; only the response's body, status and the few
headers clients read (service tier, Retry-After) are. Repeating a request records each answer in turn
and replays them in the same order (the last one repeats), so scripted retries replay as they ran.

Layout: ``DIR/<model>/<method>-<key>.json``, one file per key, readable and safe to commit.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tierwise.errors import InputFileError
from tierwise.strict import loads_json, validate

from .backend import BackendError

VOLATILE_KEYS = frozenset({"id", "thoughtSignature", "thought_signature"})
KEPT_HEADERS = ("x-gemini-service-tier", "retry-after")


@dataclass
class Exchange:
    """One upstream answer: an HTTP status and either a JSON ``body`` or, streamed, its SSE ``frames``."""

    status: int
    body: Any = None
    frames: list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.headers:
            out["headers"] = self.headers
        if self.frames is not None:
            out["frames"] = self.frames
        else:
            out["body"] = self.body
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Exchange:
        return cls(int(data["status"]), data.get("body"), data.get("frames"), dict(data.get("headers") or {}))


@dataclass(frozen=True)
class Call:
    """What identifies a request: ``api`` (gemini | vertex), model, method, SSE or not, and the body."""

    api: str
    model: str
    method: str
    sse: bool
    body: Any

    def normalized(self) -> Any:
        return _strip(self.body)

    @property
    def key(self) -> str:
        identity = {"api": self.api, "model": self.model, "method": self.method, "sse": self.sse,
                    "body": self.normalized()}
        blob = json.dumps(identity, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _strip(value: Any) -> Any:
    """``value`` without volatile parts (ids the client makes up, opaque thought signatures)."""
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


class _Answer(BaseModel):
    """One stored answer, typed: a hand-edited cassette (no status, a status that is text) is named by file and
    field when the emulator starts, not served as a 500 naming a Python exception."""

    model_config = ConfigDict(extra="forbid", strict=True)
    status: int = Field(ge=100, le=599)
    body: Any = None
    frames: list[Any] | None = None
    headers: dict[str, str] = Field(default_factory=dict)


class CassetteFile(BaseModel):
    """A cassette file as `Cassette.record` writes it (unknown keys refused, as everywhere)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    api: Literal["gemini", "vertex"]
    model: str
    method: str
    sse: bool
    key: str
    request: Any = None
    responses: list[_Answer]


class Cassette:
    """A directory of recorded exchanges. Thread-safe; replay positions are per key, in memory."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._lock = threading.Lock()
        self._served: dict[str, int] = {}
        self._recorded: set[str] = set()  # keys recorded by this process: later answers append, older ones reset

    def path(self, call: Call) -> Path:
        """Where `call` is stored: always inside the folder (a model id `..` or `.x` is refused, as Gemini
        refuses a model name it does not know)."""
        safe_model = "".join(c if c.isalnum() or c in "-._" else "_" for c in call.model)
        if not safe_model or safe_model.startswith("."):
            raise BackendError(400, f"Invalid model name {call.model!r}: a model id starts with a letter or digit.")
        return self.directory / safe_model / f"{call.method}{'-sse' if call.sse else ''}-{call.key}.json"

    def load(self, path: Path) -> CassetteFile:
        """A stored file, strictly parsed; InputFileError naming the file and field otherwise."""
        return validate(CassetteFile, loads_json(path.read_bytes(), source=path), source=path)

    def check_all(self) -> int:
        """Parse every stored file before serving (stored state is not trusted); returns how many there are."""
        files = sorted(self.directory.glob("*/*.json"))
        for path in files:
            self.load(path)
        return len(files)

    def record(self, call: Call, exchange: Exchange) -> Path:
        """Store ``exchange`` as the next answer to ``call`` (a fresh recording session starts the list over)."""
        path = self.path(call)
        with self._lock:
            answers = []
            if call.key in self._recorded and path.exists():
                answers = [a.model_dump(exclude_none=True) for a in self.load(path).responses]
            answers.append(exchange.to_json())
            self._recorded.add(call.key)
            text = json.dumps(self.document(call, answers), indent=1, ensure_ascii=False) + "\n"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
        return path

    @staticmethod
    def document(call: Call, answers: list[dict[str, Any]]) -> dict[str, Any]:
        return {"api": call.api, "model": call.model, "method": call.method, "sse": call.sse, "key": call.key,
                "request": call.normalized(), "responses": answers}

    def replay(self, call: Call) -> Exchange | None:
        """The next recorded answer to ``call`` (the last one repeats), or ``None`` if it was never recorded."""
        path = self.path(call)
        with self._lock:
            try:
                document = self.load(path)
            except FileNotFoundError:
                return None
            except (OSError, InputFileError) as exc:
                raise BackendError(500, f"Recorded exchange {path} cannot be read: "
                                        f"{getattr(exc, 'strerror', None) or exc}") from None
            stored = (document.api, document.model, document.method, document.sse, document.key)
            if stored != (call.api, call.model, call.method, call.sse, call.key):
                raise BackendError(500, f"Recorded exchange {path} was recorded for {document.api} "
                                        f"models/{document.model}:{document.method} (key {document.key}), not for "
                                        "this request: the file was edited, renamed or copied; record it again.")
            if not document.responses:
                return None
            n = self._served.get(call.key, 0)
            self._served[call.key] = n + 1
            answer = document.responses[min(n, len(document.responses) - 1)]
            return Exchange(answer.status, answer.body, answer.frames, dict(answer.headers))

    def miss(self, call: Call) -> BackendError:
        """The error a replay miss answers with: Gemini-shaped, naming the model, method and request key."""
        return BackendError(
            404,
            f"No recorded answer for models/{call.model}:{call.method} with request key {call.key} in "
            f"{self.directory} (expected {self.path(call).relative_to(self.directory)}). The request differs from "
            "every recorded one: record it again (tierwise emulator --record DIR --upstream URL) or replay with "
            "--on-miss upstream.",
        )
