"""Explicit context caches where they pay: a long shared prefix (a document, a policy) stored once per model and
read back at the cached rate, instead of being sent and billed in full by every stage call that repeats it.

A stage call marks its first `cache_prefix` messages as that prefix (`acall_stage(..., cache_prefix=2)`: the
system prompt and the document, say). Within a `caching(ExplicitCaches(...))` scope, each attempt asks for the
cache of its model and prefix (by content hash): the first one creates it, if it pays; the attempt then sends only
the rest of its messages, with `cachedContent` (Gemini refuses systemInstruction, tools or toolConfig beside a cache,
so the system prompt lives in the cache and stage calls with tools are never cached). Caches are per model: a
fallback to another model gets (or makes) its own, never one it cannot read.

When it pays (the break-even, from the registry's prices): without a cache, n calls pay n·T·input; with one,
creation T·input + n·T·cached + storage T·storage·hours. So it pays past n* = (input + storage·hours) /
(input − cached) reads within the TTL; a cache is made only when the caller's `expected_reuses` exceeds n*, and
only when the prefix reaches the model's minimum cacheable size. Each decision is kept (`decisions`) with its
figures. Creation and storage are priced into CallRecords (`cache` = "create" / "storage") handed to `record`
(the owner wires them to its ledger); reads are the calls' own `cached_tokens`, billed at the cached rate.
Storage is billed from creation until `aclose()` deletes the caches (or their TTL ends, extended while in use).
Async stage calls only (a synchronous call sends its whole prompt).

Gap filled here: langchain-google-genai takes a `cached_content` name but creates no caches and does not weigh
their cost; genai-prices has no storage prices (the registry carries them, with their source).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import inspect
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from tierwise.state.records import CallRecord
from tierwise.tiers import StageModel, Usage, price
from tierwise.tiers.pricing import today as utc_today

from .messages import text_of

if TYPE_CHECKING:
    from tierwise.context import Context
    from tierwise.tiers import Registry

    from .endpoint import Endpoint
    from .runtime import CallRuntime

log = logging.getLogger("tierwise.calls")
GEMINI_URL = "https://generativelanguage.googleapis.com"
CHARS_PER_TOKEN = 4  # the estimate a decision is made on, before Google counts the cache


@dataclass
class CacheDecision:
    """Why a model's prefix was (not) cached, with the figures: shown by `tierwise` and the benchmark."""

    model: str
    tokens: int  # estimated before creation; Google's count after
    break_even: float | None  # reads within the TTL past which the cache pays (None: no price to decide on)
    expected_reuses: int
    created: bool
    reason: str
    name: str | None = None


@dataclass
class _Cache:
    name: str
    model: str
    stage: str
    tier: str
    tokens: int
    created_at: float
    expires_at: float


Record = Callable[[CallRecord], Awaitable[None] | None]


class ExplicitCaches:
    """The explicit caches of one scope of work (a batch, a benchmark, a server's document): see the module doc."""

    def __init__(self, endpoint: Endpoint, registry: Registry, *, expected_reuses: int, ttl_s: float = 3600.0,
                 record: Record | None = None, clock: Callable[[], float] = time.time) -> None:
        if endpoint.kind == "vertex":
            from tierwise.errors import InvalidInputError

            raise InvalidInputError("explicit caching is built for the Gemini API (cachedContents); on Vertex AI use "
                                    "implicit caching")
        self.endpoint, self.registry = endpoint, registry
        self.expected_reuses, self.ttl_s = expected_reuses, ttl_s
        self.record = record
        self._clock = clock
        self._caches: dict[str, _Cache | None] = {}  # key → cache (None: decided against)
        self._locks: dict[str, asyncio.Lock] = {}
        self.decisions: list[CacheDecision] = []
        self.records: list[CallRecord] = []  # creation and storage, as handed to `record`
        self._http: Any = None

    @classmethod
    def for_runtime(cls, runtime: CallRuntime, context: Context | None = None, **options: Any) -> ExplicitCaches:
        """The caches for calls on `runtime` (its endpoint and registry for `context`); `options` as for the class
        (`expected_reuses`, `ttl_s`, `record`: e.g. `rt.spend_guard(registry).after_call` to ledger them)."""
        from tierwise.context import Context as _Context

        context = context or _Context()
        registry = runtime.registry_for(context)
        return cls(runtime.endpoint_for(context, registry), registry, **options)

    def break_even(self, candidate: StageModel, on: date | None = None) -> float | None:
        """Reads within one TTL past which a cache of `candidate`'s model costs less than resending the prefix."""
        spec = candidate.model
        if spec.cache_storage is None:
            return None
        rates = spec.price_on(on or utc_today())
        if rates.cached_input is None or rates.cached_input >= rates.input:
            return None
        return (rates.input + spec.cache_storage * self.ttl_s / 3600) / (rates.input - rates.cached_input)

    async def name_for(self, candidate: StageModel, prefix: Sequence[Any]) -> str | None:
        """The cache holding `prefix` for `candidate`'s model (created now if it pays), or None: send it all."""
        key = _key(candidate.model_id, prefix)
        if key in self._caches:
            return await self._live(self._caches[key])
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:  # concurrent calls wanting the same cache make one
            if key not in self._caches:
                self._caches[key] = await self._decide(candidate, prefix)
        return await self._live(self._caches[key])

    async def _decide(self, candidate: StageModel, prefix: Sequence[Any]) -> _Cache | None:
        tokens = sum(len(text_of(m)) for m in prefix) // CHARS_PER_TOKEN
        spec, model = candidate.model, candidate.model_id
        needed = self.break_even(candidate)

        def decided(created: bool, reason: str, name: str | None = None, counted: int = tokens) -> None:
            self.decisions.append(CacheDecision(model, counted, needed, self.expected_reuses, created, reason, name))
            log.info("explicit cache for %s: %s", model, reason)

        if spec.min_cache_tokens is None:
            decided(False, "the model takes no explicit cache")
            return None
        if tokens < spec.min_cache_tokens:
            decided(False, f"about {tokens:,} tokens, under its minimum of {spec.min_cache_tokens:,}")
            return None
        if needed is None:
            decided(False, "no storage or cached-input price to decide on")
            return None
        if self.expected_reuses <= needed:
            decided(False, f"pays past {needed:.1f} reads in {self.ttl_s / 3600:g} h; "
                           f"{self.expected_reuses} expected")
            return None
        body = _cache_body(model, prefix, self.ttl_s)
        if body is None:
            decided(False, "the prefix is not plain text messages")
            return None
        try:
            made = await self._call("POST", "cachedContents", json=body)
        except _Refused as exc:  # too small by Google's count, a model without caching...: send the prompt whole
            decided(False, f"Google refused the cache: {exc}")
            return None
        counted = int((made.get("usageMetadata") or {}).get("totalTokenCount") or tokens)
        now = self._clock()
        cache = _Cache(made["name"], model, candidate.stage, candidate.tier, counted, now, now + self.ttl_s)
        decided(True, f"{counted:,} tokens; pays past {needed:.1f} reads in {self.ttl_s / 3600:g} h; "
                      f"{self.expected_reuses} expected", cache.name, counted)
        usage = Usage(input_tokens=counted)
        await self._emit(self._record(candidate, "create", counted, price(spec, usage, utc_today())))
        return cache

    async def _live(self, cache: _Cache | None) -> str | None:
        """The cache's name, its TTL extended when less than a quarter of it is left (it is still in use)."""
        if cache is None:
            return None
        now = self._clock()
        if now >= cache.expires_at:
            return None  # expired (TTL over): the prompt goes whole; a new cache is not made for a fading reuse
        if cache.expires_at - now < self.ttl_s / 4:
            try:
                await self._call("PATCH", cache.name, json={"ttl": f"{self.ttl_s:g}s"})
                cache.expires_at = now + self.ttl_s
            except _Refused:
                return None
        return cache.name

    async def aclose(self) -> None:
        """Delete every cache made here and record its storage, from creation to now (or to its expiry)."""
        now = self._clock()
        for cache in [c for c in self._caches.values() if c is not None]:
            with contextlib.suppress(_Refused):
                await self._call("DELETE", cache.name)
            hours = (min(now, cache.expires_at) - cache.created_at) / 3600
            storage = self.registry.model(cache.model).cache_storage or 0.0
            cost = round(cache.tokens / 1_000_000 * storage * hours, 10)
            await self._emit(CallRecord(call_id=uuid.uuid4().hex, stage=cache.stage, tier=cache.tier,
                                        model=cache.model, cost_usd=cost, cache="storage"))
        self._caches.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def _record(self, candidate: StageModel, event: Literal["create", "storage"], tokens: int,
                cost: float) -> CallRecord:
        return CallRecord(call_id=uuid.uuid4().hex, stage=candidate.stage, tier=candidate.tier,
                          model=candidate.model_id, input_tokens=tokens, cost_usd=cost, input_cost_usd=cost,
                          cache=event)

    async def _emit(self, record: CallRecord) -> None:
        self.records.append(record)
        if self.record is not None:
            done = self.record(record)
            if inspect.isawaitable(done):
                await done

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        import httpx

        if self._http is None:
            self._http = httpx.AsyncClient(base_url=(self.endpoint.base_url or GEMINI_URL).rstrip("/") + "/v1beta/",
                                           headers={"x-goog-api-key": self.endpoint.api_key}, timeout=60.0)
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise _Refused(f"could not reach the endpoint: {type(exc).__name__}") from None
        if response.status_code != 200:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text[:200]
            raise _Refused(f"{response.status_code}: {message}")
        answer: dict[str, Any] = response.json()
        return answer


class _Refused(Exception):
    pass


def _key(model: str, prefix: Sequence[Any]) -> str:
    body = json.dumps([[_role(m), text_of(m)] for m in prefix], ensure_ascii=False)
    return f"{model}:{hashlib.sha256(body.encode()).hexdigest()}"


def _role(message: Any) -> str:
    return str(message[0]) if isinstance(message, tuple) else str(getattr(message, "type", "human"))


def _cache_body(model: str, prefix: Sequence[Any], ttl_s: float) -> dict[str, Any] | None:
    """The cachedContents body for plain-text messages (system → systemInstruction); None for anything else."""
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    for message in prefix:
        content = message[1] if isinstance(message, tuple) else getattr(message, "content", None)
        if not isinstance(content, str):
            return None
        role = _role(message)
        if role == "system":
            system.append(content)
        elif role in ("human", "user"):
            contents.append({"role": "user", "parts": [{"text": content}]})
        elif role in ("ai", "assistant"):
            contents.append({"role": "model", "parts": [{"text": content}]})
        else:
            return None
    body: dict[str, Any] = {"model": f"models/{model}", "ttl": f"{ttl_s:g}s"}
    if contents:
        body["contents"] = contents
    if system:
        body["systemInstruction"] = {"parts": [{"text": "\n\n".join(system)}]}
    return body


_caching: contextvars.ContextVar[ExplicitCaches | None] = contextvars.ContextVar("tierwise_caching", default=None)


@contextlib.contextmanager
def caching(caches: ExplicitCaches) -> Iterator[ExplicitCaches]:
    """Within this block (and tasks started in it), stage calls with a `cache_prefix` use `caches`."""
    token = _caching.set(caches)
    try:
        yield caches
    finally:
        _caching.reset(token)


def current() -> ExplicitCaches | None:
    return _caching.get()
