"""Explicit context caches (`cachedContents`), as the emulator serves them (Gemini Developer API).

    POST   /v1beta/cachedContents          {model, contents?, systemInstruction?, tools?, toolConfig?,
                                            ttl ("3600s") | expireTime, displayName?}
    GET    /v1beta/cachedContents          ?pageSize=&pageToken=      GET/PATCH/DELETE /v1beta/cachedContents/{id}

Strict as Google: the model must exist; `ttl` and `expireTime` together are a 400; a cache below the model's
minimum cacheable size is a 400 (the registry's `min_cache_tokens`, from Google's caching page); PATCH changes only
the expiry; a cache past its expiry is gone (403, as Google answers for a cache it does not have). A generate call
naming `cachedContent` must be for the cache's model and must not also send systemInstruction, tools or toolConfig
(strict.py answers that 400); its prompt is the cache's contents then its own, and `cachedContentTokenCount`
reports the cache's tokens. Counters (`created`, `reads`) let tests and benchmarks check what was made and used.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .backend import BackendError

DEFAULT_TTL_S = 3600.0  # Google: one hour when neither ttl nor expireTime is given
_FIELDS = {"model", "contents", "systemInstruction", "tools", "toolConfig", "ttl", "expireTime", "displayName"}
_OUTPUT_ONLY = {"name", "createTime", "updateTime", "usageMetadata"}
_DURATION = re.compile(r"^(?P<s>\d+(?:\.\d{1,9})?)s$")


@dataclass
class _Cache:
    id: str
    model: str
    content: dict[str, Any]  # contents / systemInstruction / tools / toolConfig, as sent
    tokens: int
    expires: float  # epoch seconds
    created: str
    updated: str
    display_name: str = ""

    def resource(self) -> dict[str, Any]:
        out = {"name": f"cachedContents/{self.id}", "model": f"models/{self.model}", "createTime": self.created,
               "updateTime": self.updated, "expireTime": _iso(self.expires),
               "usageMetadata": {"totalTokenCount": self.tokens}}
        if self.display_name:
            out["displayName"] = self.display_name
        return out


class CacheStore:
    """`count(model, payload) -> tokens` counts a request's prompt the way generate calls are counted;
    `min_tokens(model) -> int | None` is the model's minimum cacheable size; `known(model)` whether it exists."""

    def __init__(self, count: Callable[[str, dict[str, Any]], int], min_tokens: Callable[[str], int | None],
                 known: Callable[[str], bool], clock: Callable[[], float] = time.time) -> None:
        self._count, self._min, self._known, self._clock = count, min_tokens, known, clock
        self._caches: dict[str, _Cache] = {}
        self._lock = threading.Lock()
        self.created: list[str] = []  # names of the caches created, in order
        self.reads: int = 0  # generate calls that used a cache

    def create(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise BackendError(400, "Invalid JSON payload received. Expected an object.")
        for key in payload:
            if key not in _FIELDS and key not in _OUTPUT_ONLY:
                raise BackendError(400, f'Invalid JSON payload received. Unknown name "{key}": Cannot find field.')
        model = str(payload.get("model") or "").removeprefix("models/")
        if not model:
            raise BackendError(400, "cached_content.model is required.")
        if not self._known(model):
            raise BackendError(404, f"models/{model} is not found for API version v1beta, or is not supported for "
                               "createCachedContent.")
        content = {k: payload[k] for k in ("contents", "systemInstruction", "tools", "toolConfig") if k in payload}
        if not content.get("contents") and not content.get("systemInstruction"):
            raise BackendError(400, "Cached content must have contents or a system instruction.")
        tokens = self._count(model, {"contents": content.get("contents") or [{"role": "user", "parts": [
            {"text": ""}]}], **{k: v for k, v in content.items() if k != "contents"}})
        minimum = self._min(model)
        if minimum is not None and tokens < minimum:
            raise BackendError(400, f"Cached content is too small. total_token_count={tokens}, "
                               f"min_total_token_count={minimum}")
        expires = self._expiry(payload, self._clock())
        now = _iso(self._clock())
        with self._lock:
            cache = _Cache(secrets.token_hex(8), model, content, tokens, expires, now, now,
                           str(payload.get("displayName") or ""))
            self._caches[cache.id] = cache
            self.created.append(f"cachedContents/{cache.id}")
            return cache.resource()

    def get(self, cache_id: str) -> dict[str, Any]:
        with self._lock:
            return self._live(cache_id).resource()

    def update(self, cache_id: str, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise BackendError(400, "Invalid JSON payload received. Expected an object.")
        other = set(payload) - {"ttl", "expireTime", "name"}
        if other:
            raise BackendError(400, f"Only ttl or expire_time can be updated, not {sorted(other)[0]}.")
        if "ttl" not in payload and "expireTime" not in payload:
            raise BackendError(400, "ttl or expire_time is required.")
        with self._lock:
            cache = self._live(cache_id)
            cache.expires = self._expiry(payload, self._clock())
            cache.updated = _iso(self._clock())
            return cache.resource()

    def delete(self, cache_id: str) -> dict[str, Any]:
        with self._lock:
            self._live(cache_id)
            del self._caches[cache_id]
            return {}

    def list_caches(self, page_size: int | None, page_token: str | None) -> dict[str, Any]:
        with self._lock:
            live = [c for c in self._caches.values() if c.expires > self._clock()]
            start = int(page_token) if page_token and page_token.isdigit() else 0
            size = min(max(page_size or 100, 1), 1000)
            out: dict[str, Any] = {"cachedContents": [c.resource() for c in live[start:start + size]]}
            if start + size < len(live):
                out["nextPageToken"] = str(start + size)
            return out

    def expand(self, model: str, payload: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A generate call's payload with its cache's content put in front, and the cache's token count."""
        name = str(payload.get("cachedContent") or "")
        with self._lock:
            cache = self._live(name.removeprefix("cachedContents/"))
            if cache.model != model:
                raise BackendError(400, f"Model used by GenerateContent request (models/{model}) and CachedContent "
                                   f"(models/{cache.model}) has to be the same.")
            self.reads += 1
            content = dict(cache.content)
        merged = {k: v for k, v in payload.items() if k != "cachedContent"}
        merged["contents"] = [*(content.pop("contents", None) or []), *(payload.get("contents") or [])]
        merged.update(content)
        return merged, cache.tokens

    def _live(self, cache_id: str) -> _Cache:
        cache = self._caches.get(cache_id)
        if cache is not None and cache.expires <= self._clock():
            del self._caches[cache_id]  # expired: Google deletes it
            cache = None
        if cache is None:
            raise BackendError(403, f"CachedContent not found (or permission denied): cachedContents/{cache_id}",
                               "PERMISSION_DENIED")
        return cache

    def _expiry(self, payload: dict[str, Any], now: float) -> float:
        if "ttl" in payload and "expireTime" in payload:
            raise BackendError(400, "Only one of ttl or expire_time may be set.")
        if "expireTime" in payload:
            try:
                when = datetime.fromisoformat(str(payload["expireTime"]).replace("Z", "+00:00")).timestamp()
            except ValueError:
                raise BackendError(400, f"Invalid value at 'expire_time': {payload['expireTime']!r}.") from None
            if when <= now:
                raise BackendError(400, "expire_time must be in the future.")
            return when
        ttl = payload.get("ttl")
        if ttl is None:
            return now + DEFAULT_TTL_S
        found = _DURATION.match(str(ttl))
        if found is None or float(found["s"]) <= 0:
            raise BackendError(400, f"Invalid value at 'ttl' (type.googleapis.com/google.protobuf.Duration), {ttl!r}")
        return now + float(found["s"])


def _iso(epoch: float) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=epoch)).isoformat(
        timespec="microseconds").replace("+00:00", "Z")
