"""Stage outputs cached across retries: a LangGraph node cache in a SQLite file beside the batch output.

When an item runs again (its first run was in flight at a crash, or failed and `--retry-failed` asks again),
the stages it already got good answers for are served from here: no model call, so nothing is billed twice
(the ledger holds the first call's record, once). Only good answers are kept: a stage that failed, or whose
answer was unusable, is not cached, so a retry asks the model again instead of replaying the failure.

The key is a hash of the node's input state (which includes the item's stable request id, so two items with
the same text never share answers) and of the run's settings (registry, context, extract schema), so a
resume with other settings does not get answers made under the old ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from langgraph.cache.base import BaseCache, FullKey, Namespace
from langgraph.types import CachePolicy

from tierwise.graph.serde import serializer

SEP = "\x1f"
log = logging.getLogger("tierwise.batch")


class StageCache(BaseCache[Sequence[tuple[str, Any]]]):
    """A LangGraph `BaseCache` in one SQLite file; keeps only the writes of stages that got a good answer."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(serde=serializer())
        self.path = Path(path)
        self._lock = threading.Lock()
        self._warned = False
        try:
            self._db = self._open(self.path)
        except sqlite3.Error as exc:  # stored state is not trusted: junk here only costs a retry its savings
            if self.path.is_file():
                aside = self.path.with_name(f"{self.path.name}.unusable-{int(time.time())}")
                for suffix in ("", "-wal", "-shm"):
                    with contextlib.suppress(OSError):
                        self.path.with_name(self.path.name + suffix).rename(aside.with_name(aside.name + suffix))
                log.warning("the stage cache %s is unusable (%s); moved it to %s and started a new one: items run "
                            "again call their models again", self.path, exc, aside)
                with contextlib.suppress(sqlite3.Error):
                    self._db = self._open(self.path)
                    return
            log.warning("cannot use %s as the stage cache (%s); this run keeps stage answers in memory only",
                        self.path, exc)
            self._db = self._open(":memory:")

    @staticmethod
    def _open(path: Path | str) -> sqlite3.Connection:
        db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("CREATE TABLE IF NOT EXISTS writes (ns TEXT, key TEXT, enc TEXT, value BLOB, "
                       "expires REAL, PRIMARY KEY (ns, key))")
            db.execute("SELECT ns, key, enc, value, expires FROM writes LIMIT 1").fetchall()
        except sqlite3.Error:
            db.close()
            raise
        return db

    def get(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        found: dict[FullKey, Any] = {}
        now = time.time()
        with self._lock:
            for ns, key in keys:
                row = self._db.execute("SELECT enc, value, expires FROM writes WHERE ns = ? AND key = ?",
                                       (SEP.join(ns), key)).fetchone()
                if row is not None and (row[2] is None or row[2] > now):
                    try:
                        found[(ns, key)] = self.serde.loads_typed((row[0], row[1]))
                    except Exception as exc:  # noqa: BLE001 - a damaged entry is a miss: the stage runs again
                        self._warn_once(f"an entry of the stage cache {self.path} cannot be read ({exc!r:.200}); "
                                        "that stage runs again")
        return found

    async def aget(self, keys: Sequence[FullKey]) -> dict[FullKey, Any]:
        return self.get(keys)  # a local indexed read: well under a millisecond, not worth a thread hop

    def set(self, pairs: Mapping[FullKey, tuple[Any, int | None]]) -> None:
        rows = []
        for (ns, key), (writes, ttl) in pairs.items():
            if not good_answer(writes):
                continue
            enc, value = self.serde.dumps_typed(writes)
            rows.append((SEP.join(ns), key, enc, value, time.time() + ttl if ttl else None))
        if rows:
            with self._lock:
                try:
                    self._db.executemany("INSERT OR REPLACE INTO writes VALUES (?, ?, ?, ?, ?)", rows)
                except sqlite3.Error as exc:  # a full disk: the cache only saves a retry money, never costs a result
                    self._warn_once(f"the stage cache {self.path} cannot be written ({exc}): a retry will call the "
                                    "models again")

    def _warn_once(self, message: str) -> None:
        if not self._warned:
            self._warned = True
            log.warning("%s", message)

    async def aset(self, pairs: Mapping[FullKey, tuple[Any, int | None]]) -> None:
        self.set(pairs)

    def clear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        with self._lock:
            if namespaces is None:
                self._db.execute("DELETE FROM writes")
            else:
                self._db.executemany("DELETE FROM writes WHERE ns = ?", [(SEP.join(ns),) for ns in namespaces])

    async def aclear(self, namespaces: Sequence[Namespace] | None = None) -> None:
        self.clear(namespaces)

    def close(self) -> None:
        with self._lock:
            self._db.close()


def good_answer(writes: Sequence[tuple[str, Any]]) -> bool:
    """False when the stage failed: a request-ending failure, or a last attempt that was not a good answer."""
    for channel, value in writes:
        if channel == "failure" and value:
            return False
        if channel == "calls" and value and getattr(value[-1], "outcome", "ok") != "ok":
            return False
    return True


def stage_cache_policy(settings: Mapping[str, Any]) -> CachePolicy[Callable[[Any], str]]:
    """A CachePolicy whose key covers the node's input state and the run's `settings`."""
    salt = _digest(settings)

    def key(state: Any) -> str:
        return f"{salt}:{_digest(state)}"

    return CachePolicy(key_func=key)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, default=_plain, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _plain(value: Any) -> Any:
    """Stable JSON for what states hold: pydantic models, dataclasses, dates, sets, classes."""
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return repr(value)
