"""What each HTTP response of a call says about its bill: the service tier that served it (the Gemini API's
`x-gemini-service-tier` header, Vertex AI's `usageMetadata.trafficType`), its usage by modality, and its Google
Search grounding queries.

Gap: langchain-google-genai drops all of these (it keeps token totals only, summed over google-genai's automatic
continuation hops), so the chat model's httpx client gets two hooks. The response hook notes one `Seen` per HTTP
response (one per hop) in a context variable the call path set just before the call (httpx runs hooks in the
calling thread or task, so concurrent calls never see each other's) and tees the body as the client reads it —
unary JSON or SSE chunks alike, so streamed calls are read too, without reading ahead. Each hop is then billed on
its own (a long-context price applies per request, never to hops summed). Calls over google-genai's aiohttp
transport, where hooks do not run, fall back to LangChain's totals and the requested tier.

Vertex AI selects Flex and Priority PayGo with the request header `X-Vertex-AI-LLM-Shared-Request-Type`
(https://docs.cloud.google.com/vertex-ai/generative-ai/docs/flex-paygo, .../priority-paygo) and refuses a
`serviceTier` body field (googleapis/python-genai#2433): calls/transport.py sends the header instead.
"""

from __future__ import annotations

import contextvars
import functools
import json
import zlib
from collections.abc import AsyncIterator, Coroutine, Generator, Iterator
from dataclasses import dataclass, field
from typing import Any

HEADER = "x-gemini-service-tier"
VERTEX_TIER_HEADER = "X-Vertex-AI-LLM-Shared-Request-Type"
# Vertex's usageMetadata.trafficType (google-genai's types.TrafficType) → the service tier billed. Off-peak and
# Provisioned Throughput have no Gemini service tier: they are noted as such, and the requested tier is billed
# for off-peak (no listed off-peak price) while Provisioned Throughput is prepaid capacity (see `billed_tier`).
TRAFFIC_TYPES = {
    "ON_DEMAND": "standard",
    "ON_DEMAND_PRIORITY": "priority",
    "ON_DEMAND_FLEX": "flex",
    "ON_DEMAND_OFFPEAK": "offpeak",
    "PROVISIONED_THROUGHPUT": "provisioned",
    "TRAFFIC_TYPE_UNSPECIFIED": None,
}
_served: contextvars.ContextVar[list[Seen] | None] = contextvars.ContextVar("tierwise_served", default=None)


@dataclass
class Seen:
    """One HTTP response of a call: its served tier and its last usageMetadata (a hop's running total)."""

    tier: str | None = None
    usage: dict[str, Any] | None = None
    searches: set[str] = field(default_factory=set)
    complete: bool = False  # the body was read to its end (a cut stream leaves usage partial)

    def note(self, chunk: Any) -> None:
        if not isinstance(chunk, dict):
            return
        usage = chunk.get("usageMetadata")
        if isinstance(usage, dict):
            self.usage = usage
            traffic = usage.get("trafficType")
            if isinstance(traffic, str) and TRAFFIC_TYPES.get(traffic):
                self.tier = TRAFFIC_TYPES[traffic]
        for candidate in chunk.get("candidates") or ():
            grounding = candidate.get("groundingMetadata") if isinstance(candidate, dict) else None
            queries = grounding.get("webSearchQueries") if isinstance(grounding, dict) else None
            if isinstance(queries, list):
                self.searches.update(q for q in queries if isinstance(q, str))


class _Done:
    """Awaitable that is already done: httpx's sync client ignores a hook's return value, its async client awaits
    it, so one hook object serves both (langchain-google-genai passes the same client_args to both clients)."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that finishes at once


def note_served_tier(response: Any) -> _Done | Coroutine[Any, Any, None]:
    """httpx response hook: start a `Seen` for this response and tee its body into it, if a call is listening."""
    box = _served.get()
    if box is None or not _generate(response.request.url.path):
        return _Done()
    seen = Seen(tier=_header_tier(response.headers.get(HEADER)))
    box.append(seen)
    reader = _Reader(seen, response.headers.get("content-type", ""), response.headers.get("content-encoding", ""))
    if reader.usable:
        import httpx

        sync_tee, async_tee = _tees()
        tee = async_tee if isinstance(response.stream, httpx.AsyncByteStream) else sync_tee
        response.stream = tee(response.stream, reader)
    return _Done()


def _generate(path: str) -> bool:
    return path.endswith((":generateContent", ":streamGenerateContent"))


def _header_tier(value: str | None) -> str | None:
    return str(value) if value else None


class _Reader:
    """Parses a response body as it passes: one JSON document, or SSE `data:` lines (each one chunk)."""

    def __init__(self, seen: Seen, content_type: str, encoding: str) -> None:
        self.seen = seen
        self.sse = "text/event-stream" in content_type
        encoding = encoding.strip().lower()
        self.usable = encoding in ("", "identity", "gzip", "deflate")
        self._inflate = zlib.decompressobj(zlib.MAX_WBITS | 32) if encoding in ("gzip", "deflate") else None
        self._buffer = b""
        self._last: bytes | None = None  # the latest SSE data line, parsed at the end

    def feed(self, data: bytes) -> None:
        if self._inflate is not None:
            data = self._inflate.decompress(data)
        self._buffer += data
        if self.sse:
            *lines, self._buffer = self._buffer.split(b"\n")
            for line in lines:
                self._line(line)

    def close(self, complete: bool) -> None:
        if self.sse:
            self._line(self._buffer)
            if self._last is not None:  # usage and traffic type are running totals: the last chunk has them
                self._parse(self._last)
        elif self._buffer:
            try:
                document = json.loads(self._buffer)
            except ValueError:
                document = None
            for chunk in document if isinstance(document, list) else [document]:
                self.seen.note(chunk)
        self._buffer = b""
        self.seen.complete = complete

    def _line(self, line: bytes) -> None:
        line = line.strip()
        if not line.startswith(b"data:"):
            return
        if b'"groundingMetadata"' in line:  # grounding queries may come on any chunk: read each that has some
            self._parse(line)
        self._last = line

    def _parse(self, line: bytes) -> None:
        try:
            self.seen.note(json.loads(line[5:]))
        except ValueError:
            pass


@functools.cache
def _tees() -> tuple[type, type]:
    """The tee stream classes, built on first use so that importing tierwise does not import httpx."""
    import httpx

    class SyncTee(httpx.SyncByteStream):
        def __init__(self, stream: Any, reader: _Reader) -> None:
            self.stream, self.reader = stream, reader

        def __iter__(self) -> Iterator[bytes]:
            complete = False
            try:
                for data in self.stream:
                    self.reader.feed(data)
                    yield data
                complete = True
            finally:
                self.reader.close(complete)

        def close(self) -> None:
            self.stream.close()

    class AsyncTee(httpx.AsyncByteStream):
        def __init__(self, stream: Any, reader: _Reader) -> None:
            self.stream, self.reader = stream, reader

        async def __aiter__(self) -> AsyncIterator[bytes]:
            complete = False
            try:
                async for data in self.stream:
                    self.reader.feed(data)
                    yield data
                complete = True
            finally:
                self.reader.close(complete)

        async def aclose(self) -> None:
            await self.stream.aclose()

    return SyncTee, AsyncTee


CLIENT_ARGS: dict[str, Any] = {"event_hooks": {"response": [note_served_tier]}}


def listen() -> tuple[list[Seen], contextvars.Token[list[Seen] | None]]:
    """Start listening for the next call's responses; `stop(token)` after it."""
    box: list[Seen] = []
    return box, _served.set(box)


def current() -> list[Seen]:
    """The responses noted so far for the call in progress (empty: none, or nobody listening)."""
    return list(_served.get() or ())


def stop(token: contextvars.Token[list[Seen] | None]) -> None:
    _served.reset(token)
