"""The service tier that served a call, read from the response's `x-gemini-service-tier` header.

Gap: Gemini may serve a Priority request as standard and says so only in that header; google-genai keeps it in
`sdk_http_response.headers` and langchain-google-genai drops it. So the chat model's httpx client gets a response
hook that notes the header in a context variable the call path set just before the call (httpx runs response
hooks in the calling thread or task, so concurrent calls never see each other's). With google-genai's aiohttp
transport the hook does not run, and the call is billed at the tier requested.
"""

from __future__ import annotations

import contextvars
from collections.abc import Generator
from typing import Any

HEADER = "x-gemini-service-tier"
_served: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("tierwise_served_tier", default=None)


class _Done:
    """Awaitable that is already done: httpx's sync client ignores a hook's return value, its async client awaits
    it, so one hook object serves both (langchain-google-genai passes the same client_args to both clients)."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield  # a generator that finishes at once


def note_served_tier(response: Any) -> _Done:
    """httpx response hook: remember the served tier for the call in progress, if one is listening."""
    box = _served.get()
    if box is not None:
        tier = response.headers.get(HEADER)
        if tier:
            box.append(str(tier))
    return _Done()


CLIENT_ARGS: dict[str, Any] = {"event_hooks": {"response": [note_served_tier]}}


def listen() -> tuple[list[str], contextvars.Token[list[str] | None]]:
    """Start listening for the next call's served tier; `stop(token)` after it."""
    box: list[str] = []
    return box, _served.set(box)


def stop(token: contextvars.Token[list[str] | None]) -> None:
    _served.reset(token)
