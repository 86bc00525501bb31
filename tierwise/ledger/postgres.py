"""The PostgreSQL ledger: for many workers on many machines sharing one spend cap.

Counters are single rows updated with `usd = usd + excluded.usd`: under READ COMMITTED the row lock orders
concurrent writers, so none loses another's update. Schema creation takes an advisory lock because
`CREATE TABLE IF NOT EXISTS` is not safe against itself across sessions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tierwise.errors import LedgerError

from .pool import Pool
from .sql import SqlLedger
from .tables import POSTGRES

MAX_CONNECTIONS = 16
CONNECT_TIMEOUT_SECONDS = 10
SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(7317842391)"


class PostgresLedger(SqlLedger):
    dialect = POSTGRES

    def __init__(self, url: str, *, max_connections: int = MAX_CONNECTIONS) -> None:
        try:
            import psycopg
        except ImportError:
            raise LedgerError(
                "a postgresql:// ledger needs psycopg: pip install 'tierwise[postgres]'"
            ) from None
        self._psycopg = psycopg
        self._dsn = url
        self.url = redact(url)
        self._pool = Pool(self._connect, max_connections, self.url, check=_alive)
        self._create_schema(SCHEMA_LOCK)

    def _connect(self) -> Any:
        try:
            return self._psycopg.connect(self._dsn, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS)
        except self._psycopg.Error as exc:
            raise LedgerError(f"cannot connect to the ledger at {self.url}: {_first_line(exc)}") from None

    @contextmanager
    def _read(self) -> Iterator[Any]:
        try:
            with self._pool.connection() as conn, conn.cursor() as cur:
                yield cur
        except self._psycopg.Error as exc:
            raise LedgerError(f"cannot read the ledger at {self.url}: {_first_line(exc)}") from exc

    @contextmanager
    def _write(self) -> Iterator[Any]:
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cur:
                yield cur
        except self._psycopg.Error as exc:
            raise LedgerError(f"cannot write the ledger at {self.url}: {_first_line(exc)}") from exc

    def close(self) -> None:
        self._pool.close()


def _alive(conn: Any) -> bool:
    try:
        conn.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001 - any failure means: do not reuse this connection
        return False


def redact(url: str) -> str:
    """The URL without its password, for messages and reports."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc[1]}"))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
