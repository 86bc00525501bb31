"""Another way an attempt reaches Gemini: handed to a collector that sends many attempts as one asynchronous job
(the Batch API) and answers each when its job ends. Everything else about the attempt stays as it is.

How: the chat model of a deferred call gets an httpx transport (`DeferredTransport`) in place of the network.
google-genai builds the generateContent request as always; the transport gives its JSON body to the collector
and turns the collector's answer (the job's response for that request, or its error) into the HTTP response
google-genai expects. So langchain-google-genai parses it, the loop judges, retries and falls back exactly as for
a live call — a retry is just the next request the collector receives.

The collector (tierwise/batch/jobs.py) is chosen by the caller for a scope of work (`deferring(...)`), the way
LangGraph scopes its runtime: a context variable, set by the batch runner around its own tasks only. Each attempt
gets a stable key (its item, stage, model, body and occurrence), returned here so that its CallRecord carries it
as `call_id`: a request answered again after a crash is recorded (and billed) once.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

_MODEL = re.compile(r"/models/(?P<model>[^/:]+):generateContent$")


@dataclass(frozen=True)
class DeferredAnswer:
    status: int  # HTTP status the answer is given with (200, or the error's)
    body: bytes  # a GenerateContentResponse, or Google's {"error": {...}} envelope
    key: str  # the attempt's stable key (its CallRecord's call_id)


class Collector(Protocol):
    """What collects deferred attempts (tierwise.batch.jobs.BatchJobs)."""

    processing: str  # how the calls are billed: "batch"

    async def send(self, model: str, body: bytes, scope: str) -> DeferredAnswer: ...


class DeferredTransport:
    """An httpx transport (async only) that hands generateContent requests to a collector."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    async def handle_async_request(self, request: Any) -> Any:
        import httpx

        found = _MODEL.search(request.url.path)
        if found is None or request.method != "POST":
            raise httpx.UnsupportedProtocol(f"a deferred call sends generateContent only, not {request.url.path}")
        note = _attempt.get()
        body = await request.aread()
        answer = await self.collector.send(found["model"], body, note.scope if note else "")
        if note is not None:
            note.key = answer.key
        return httpx.Response(answer.status, content=answer.body, request=request,
                              headers={"content-type": "application/json; charset=UTF-8"})

    def handle_request(self, request: Any) -> Any:
        import httpx

        raise httpx.UnsupportedProtocol("a deferred (Batch API) call is async only: use acall_stage / ainvoke")

    async def aclose(self) -> None:
        """Nothing to close: the collector owns its connections."""

    def close(self) -> None:
        """Nothing to close."""

    def __enter__(self) -> DeferredTransport:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    async def __aenter__(self) -> DeferredTransport:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


@dataclass
class _Note:
    scope: str
    key: str | None = None


_deferred: contextvars.ContextVar[DeferredTransport | None] = contextvars.ContextVar("tierwise_deferred", default=None)
_attempt: contextvars.ContextVar[_Note | None] = contextvars.ContextVar("tierwise_deferred_attempt", default=None)


@contextlib.contextmanager
def deferring(collector: Collector) -> Iterator[DeferredTransport]:
    """Within this block (and tasks started in it), stage calls send their attempts to `collector`."""
    transport = DeferredTransport(collector)
    token = _deferred.set(transport)
    try:
        yield transport
    finally:
        _deferred.reset(token)


def current() -> DeferredTransport | None:
    """The transport deferred calls go through here, if a caller chose one."""
    return _deferred.get()


def noting(scope: str) -> tuple[_Note, contextvars.Token[_Note | None]]:
    """Around one deferred attempt: the transport writes the attempt's key into the note."""
    note = _Note(scope)
    return note, _attempt.set(note)


def stop_noting(token: contextvars.Token[_Note | None]) -> None:
    _attempt.reset(token)
