"""Where the ledger lives: an explicit URL, else $TIERWISE_LEDGER_URL, else the registry's `[ledger] url`, else
SQLite in the user's data directory."""

from __future__ import annotations

import atexit
import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import Ledger
from .errors import LedgerError

if TYPE_CHECKING:
    from tierwise.tiers import Registry

ENV_URL = "TIERWISE_LEDGER_URL"


def default_path() -> Path:
    """$XDG_DATA_HOME/tierwise/ledger.db (~/.local/share/...); %LOCALAPPDATA%\\tierwise on Windows."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        base = Path(os.environ["LOCALAPPDATA"])
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
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


_shared: dict[str, Ledger] = {}
_shared_lock = threading.Lock()


def _new_lock_after_fork() -> None:
    global _shared_lock
    _shared_lock = threading.Lock()  # another thread may have held it at fork time


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_new_lock_after_fork)


def shared_ledger(url: str | None = None) -> Ledger:
    """One open ledger per URL per process, for the call path: opening one per call would cost a connection
    and a schema check every time."""
    resolved = resolve_url(url)
    with _shared_lock:
        ledger = _shared.get(resolved)
        if ledger is None:
            ledger = _shared[resolved] = open_ledger(resolved)
        return ledger


def is_shared(url: str, ledger: Ledger) -> bool:
    """True while `ledger` is still the process's open ledger for the resolved `url` (not closed since)."""
    return _shared.get(url) is ledger


@atexit.register
def close_shared() -> None:
    """Close every shared ledger: at exit, in tests, and before a pre-fork server forks its workers (a child
    must not use, or finalize, its parent's PostgreSQL connections)."""
    with _shared_lock:
        ledgers = list(_shared.values())
        _shared.clear()
    for ledger in ledgers:
        ledger.close()


def check_ledger(context: Any) -> None:
    """Refuse to start on a ledger whose schema this tierwise cannot read (its calls would go unrecorded). An
    unreachable ledger is left to the call path, which answers anyway and warns."""
    from tierwise.errors import ConfigurationError
    from tierwise.tiers import load_registry

    from .errors import LedgerError, LedgerSchemaError

    registry = load_registry(context.registry_path)
    if not registry.data.ledger.enabled:
        return
    url = resolve_url(None, registry)
    try:  # a URL that can never work is a setting to fix, refused now and naming where it came from
        parse_url(url)
    except LedgerError as exc:
        setting = f"${ENV_URL}" if os.environ.get(ENV_URL, "").strip() else "[ledger] url"
        raise ConfigurationError(f"{setting}: {exc}") from None
    try:
        shared_ledger(resolve_url(None, registry))
    except LedgerSchemaError:
        raise
    except LedgerError:
        pass
