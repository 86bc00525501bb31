"""The service tier that served a call: the Gemini API's `x-gemini-service-tier` header, Vertex AI's
`usageMetadata.trafficType`.

Gap: Gemini may serve a Priority request as standard and says so only there; google-genai keeps the header in
`sdk_http_response.headers` and the body field in `usage_metadata.traffic_type`, and langchain-google-genai drops
both. So the chat model's httpx client gets a response hook that notes the tier in a context variable the call path
set just before the call (httpx runs response hooks in the calling thread or task, so concurrent calls never see
each other's). On Vertex the hook reads a unary response's body early (it is read whole anyway) and looks for the
field; a streamed Vertex response is not read ahead (that would end the streaming), so it is billed at the tier
requested — as is every call over google-genai's aiohttp transport, where the hook does not run.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Coroutine, Generator
from typing import Any

HEADER = "x-gemini-service-tier"
# Vertex's usageMetadata.trafficType → the service tier billed. PROVISIONED_THROUGHPUT (prepaid capacity) and
# anything unknown are left out: the tier requested is billed.
TRAFFIC_TYPES = {"ON_DEMAND": "standard", "ON_DEMAND_PRIORITY": "priority", "ON_DEMAND_FLEX": "flex"}
_TRAFFIC = re.compile(rb'"trafficType"\s*:\s*"([A-Z_]+)"')
_served: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("tierwise_served_tier", default=None)


class _Done:
    """Awaitable that is already done: httpx's sync client ignores a hook's return value, its async client awaits
    it, so one hook object serves both (langchain-google-genai passes the same client_args to both clients)."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that finishes at once


def note_served_tier(response: Any) -> _Done | Coroutine[Any, Any, None]:
    """httpx response hook: remember the served tier for the call in progress, if one is listening."""
    box = _served.get()
    if box is None:
        return _Done()
    tier = response.headers.get(HEADER)
    if tier:
        box.append(str(tier))
    elif _vertex_unary(response):
        import httpx

        if isinstance(response.stream, httpx.AsyncByteStream):
            return _anote_traffic(response, box)
        response.read()
        _note_traffic(response.content, box)
    return _Done()


def _vertex_unary(response: Any) -> bool:
    path = response.request.url.path
    return "/publishers/google/models/" in path and path.endswith(":generateContent")


def _note_traffic(body: bytes, box: list[str]) -> None:
    match = _TRAFFIC.search(body)
    if match and (tier := TRAFFIC_TYPES.get(match.group(1).decode())):
        box.append(tier)


async def _anote_traffic(response: Any, box: list[str]) -> None:
    await response.aread()
    _note_traffic(response.content, box)


CLIENT_ARGS: dict[str, Any] = {"event_hooks": {"response": [note_served_tier]}}


def listen() -> tuple[list[str], contextvars.Token[list[str] | None]]:
    """Start listening for the next call's served tier; `stop(token)` after it."""
    box: list[str] = []
    return box, _served.set(box)


def current() -> str | None:
    """The served tier noted so far for the call in progress (None: not said, or nobody listening)."""
    box = _served.get()
    return box[-1] if box else None


def stop(token: contextvars.Token[list[str] | None]) -> None:
    _served.reset(token)
