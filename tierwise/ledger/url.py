"""Where the ledger lives: an explicit URL, else $TIERWISE_LEDGER_URL, else the registry's `[ledger] url`, else
SQLite in the user's data directory."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from tierwise.errors import LedgerError

from .base import Ledger

T = TypeVar("T")

if TYPE_CHECKING:
    from tierwise.tiers import Registry

ENV_URL = "TIERWISE_LEDGER_URL"


def default_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME/tierwise/ledger.db (~/.local/share/...); %LOCALAPPDATA%\\tierwise on Windows."""
    env = os.environ if env is None else env
    if sys.platform == "win32" and env.get("LOCALAPPDATA"):
        base = Path(env["LOCALAPPDATA"])
    else:
        base = Path(env.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "tierwise" / "ledger.db"


def resolve_url(url: str | None = None, registry: Registry | None = None) -> str:
    """The first of: `url`, $TIERWISE_LEDGER_URL, the registry's `[ledger] url`; else the default SQLite file."""
    configured = registry.data.ledger.url if registry is not None else ""
    for candidate in (url, os.environ.get(ENV_URL), configured):
        if candidate and candidate.strip():
            return candidate.strip()
    return f"sqlite:///{default_path()}"


def open_ledger(url: str | None = None, *, create: bool = True) -> Ledger:
    """Open (and create, unless `create=False`) the ledger at `url`, resolved as in `resolve_url`.

    `sqlite:///relative.db`, `sqlite:////abs/path.db` or a plain file path → SQLite;
    `postgresql://user@host:5432/db` → PostgreSQL (needs `tierwise[postgres]`).
    """
    url = resolve_url(url)
    kind, path = parse_url(url)
    if kind == "postgresql":
        from .postgres import PostgresLedger

        return PostgresLedger(url)
    from .sqlite import SQLiteLedger

    return SQLiteLedger(path, create=create)


def parse_url(url: str) -> tuple[str, str]:
    """("postgresql", url) or ("sqlite", path); LedgerError for a URL no ledger can be opened at (a setting to
    fix, not an outage): an unknown scheme, an in-memory SQLite database."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in ("postgresql", "postgres"):
        return "postgresql", url
    if scheme == "sqlite":
        path = url[len("sqlite://"):].removeprefix("/")
        if not path or path == ":memory:":
            raise LedgerError("an in-memory SQLite ledger would vanish with its connection; give a file path")
        return "sqlite", path
    if scheme:
        raise LedgerError(f"unknown ledger URL scheme {scheme!r}; use sqlite:///PATH or postgresql://…")
    return "sqlite", url


STAND_IN_FILE = "stand-in-ledger.db"  # what local-model and scripted-demo calls record, apart from real spend


class LedgerPool:
    """The ledgers one Runtime has open (one per URL: opening one per call would cost a connection and a schema
    check every time), and what their readers keep beside them (`kept`: the spend guards of tierwise.budget, the
    medians of tierwise.tiers.economics), closed and dropped with the runtime.

    Which ledger a call records into: the runtime's `url`, else $TIERWISE_LEDGER_URL, else the registry's
    `[ledger] url`, else the default SQLite file — except that calls answered by a stand-in (the local model or
    the scripted demo) go to `stand-in-ledger.db` beside it unless a ledger was named: invented spend never
    enters the ledger that real calls use unless the caller asked for it.
    """

    def __init__(self, url: str | None = None, *, env: Mapping[str, str] | None = None) -> None:
        if url is not None and (not isinstance(url, str) or not url.strip()):
            raise LedgerError(f"ledger must be a ledger URL or path (sqlite:///PATH, postgresql://...), got {url!r}")
        self.url = url.strip() if url else None
        self.env = os.environ if env is None else env
        self._open: dict[str, Ledger] = {}
        self._kept: dict[Any, Any] = {}
        self._lock_, self._lock_pid = threading.Lock(), os.getpid()

    @property
    def _lock(self) -> threading.Lock:
        if self._lock_pid != os.getpid():  # another thread may have held it at fork time
            self._lock_, self._lock_pid = threading.Lock(), os.getpid()
        return self._lock_

    def resolve(self, registry: Registry | None = None, *, stand_in: bool = False) -> str:
        named = next((c.strip() for c in (self.url, self.env.get(ENV_URL),
                                          registry.data.ledger.url if registry is not None else "")
                      if c and c.strip()), None)
        if named:
            return named
        path = default_path(self.env)
        return f"sqlite:///{path.with_name(STAND_IN_FILE) if stand_in else path}"

    def ledger(self, url: str, *, create: bool = True) -> Ledger:
        """The open ledger at `url` (`create=False`: a reader that must not make one, e.g. the economics)."""
        with self._lock:
            ledger = self._open.get(url)
            if ledger is None:
                ledger = self._open[url] = open_ledger(url, create=create)
            return ledger

    def kept(self, key: Any, factory: Callable[[], T]) -> T:
        """What a reader of these ledgers keeps per runtime under `key`, made by `factory` on first use (the
        packages above storage keep their state here, so this one imports none of them)."""
        kept = self._kept.get(key)  # asked on every call: no lock once it is made
        if kept is not None:
            return cast(T, kept)
        with self._lock:
            if key not in self._kept:
                self._kept[key] = factory()
            return cast(T, self._kept[key])

    def close(self) -> None:
        """Close every ledger this pool opened (Runtime.close, and before a pre-fork server forks its workers: a
        child must not use, or finalize, its parent's PostgreSQL connections)."""
        with self._lock:
            ledgers, self._open = list(self._open.values()), {}
            self._kept.clear()
        for ledger in ledgers:
            ledger.close()


def check_ledger(pool: LedgerPool, registry: Registry, *, stand_in: bool = False) -> None:
    """Refuse to start on a ledger whose schema this tierwise cannot read (its calls would go unrecorded). An
    unreachable ledger is left to the call path, which answers anyway and warns. `stand_in`: the run answers from
    a stand-in, so the ledger to check is the one its calls go to."""
    from tierwise.errors import ConfigurationError, LedgerSchemaError

    if not registry.data.ledger.enabled:
        return
    url = pool.resolve(registry, stand_in=stand_in)
    try:  # a URL that can never work is a setting to fix, refused now and naming where it came from
        parse_url(url)
    except LedgerError as exc:
        setting = ("the ledger URL" if pool.url else f"${ENV_URL}" if pool.env.get(ENV_URL, "").strip()
                   else "[ledger] url")
        raise ConfigurationError(f"{setting}: {exc}") from None
    try:
        pool.ledger(url)
    except LedgerSchemaError:
        raise
    except LedgerError:
        pass
