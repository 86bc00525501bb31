"""The ledger over SQL, shared by SQLite and PostgreSQL; backends supply connections and transactions.

Idempotency and the counters come from the database itself: `INSERT ... ON CONFLICT (call_id) DO NOTHING`
tells whether this call is new, and only a new call adds its cost to the counters, with an atomic
`ON CONFLICT ... DO UPDATE SET usd = usd + excluded.usd` in the same transaction. No read-modify-write in
Python, so concurrent workers can neither lose an update nor count a call twice.
"""

from __future__ import annotations

import json
from abc import abstractmethod
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from .base import Ledger
from .entry import COLUMNS, LedgerEntry
from .errors import LedgerSchemaError
from .periods import ALL, Spend, counter_keys, day_key, month_key, task_scope, utc
from .shadow import ShadowStore
from .tables import SCHEMA_VERSION, Dialect, ddl

_INSERT = (f"INSERT INTO tierwise_calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           "ON CONFLICT (call_id) DO NOTHING")
_ADD = ("INSERT INTO tierwise_spend (period, scope, usd, calls) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (period, scope) DO UPDATE SET usd = tierwise_spend.usd + excluded.usd, "
        "calls = tierwise_spend.calls + 1")


class SqlLedger(ShadowStore, Ledger):
    dialect: Dialect

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]:
        """A cursor outside any explicit transaction: each statement sees the latest committed state."""

    @abstractmethod
    def _write(self) -> AbstractContextManager[Any]:
        """A cursor inside one write transaction, committed on success and rolled back on error."""

    def _to_db_time(self, moment: datetime) -> Any:
        return moment

    def _from_db_time(self, value: Any) -> datetime:
        return utc(value)

    def _sql(self, text: str) -> str:
        return text.replace("?", self.dialect.param)

    def _create_schema(self, lock_statement: str | None = None) -> None:
        with self._write() as cur:
            if lock_statement:
                cur.execute(lock_statement)
            for statement in ddl(self.dialect):
                cur.execute(statement)
            cur.execute(self._sql("SELECT value FROM tierwise_meta WHERE key = ?"), ("schema_version",))
            row = cur.fetchone()
            if row is None:
                cur.execute(self._sql("INSERT INTO tierwise_meta (key, value) VALUES (?, ?)"),
                            ("schema_version", str(SCHEMA_VERSION)))
            else:
                self._check_version(row[0])

    def _check_version(self, stored: Any) -> None:
        """A version this tierwise reads, or a LedgerError naming the ledger and what to do (the row may have been
        edited by hand)."""
        text = str(stored).strip()
        if not (text.isascii() and text.isdigit()) or int(text) < 1:
            raise LedgerSchemaError(
                f"the ledger at {self.url} has an unreadable schema version {str(stored)[:40]!r} (tierwise_meta, key "
                f"schema_version; edited by hand?): set it back to {SCHEMA_VERSION} if the tables are tierwise's, "
                "or point --ledger / TIERWISE_LEDGER_URL at another ledger"
            )
        if int(text) > SCHEMA_VERSION:
            raise LedgerSchemaError(
                f"the ledger at {self.url} has schema version {text}; this tierwise reads up to "
                f"{SCHEMA_VERSION}: upgrade tierwise"
            )

    def record(self, entry: LedgerEntry) -> Spend:
        with self._write() as cur:
            inserted = self._store(cur, entry)
            counters = self._counters(cur, entry.started_at, entry.task_type)
        return Spend.from_counters(entry.started_at, entry.task_type, counters, inserted)

    def record_many(self, entries: list[LedgerEntry]) -> int:
        """Store `entries` in ONE transaction (group commit: the journal's writer thread, replays); returns how many
        were new. Idempotent per call id like `record`, so replaying a batch twice adds nothing."""
        if not entries:
            return 0
        with self._write() as cur:
            return sum(self._store(cur, entry) for entry in entries)

    def _store(self, cur: Any, entry: LedgerEntry) -> bool:
        """Insert the row and, only if it is new, add its cost to its counters; True if it was new."""
        cur.execute(self._sql(_INSERT), [self._value(entry, name) for name in COLUMNS])
        inserted = cur.rowcount == 1
        if inserted:
            for period, scope in counter_keys(entry.started_at, entry.task_type, entry.purpose):
                cur.execute(self._sql(_ADD), (period, scope, float(entry.cost_usd)))
        return inserted

    def spend(self, at: datetime | None = None, task_type: str | None = None) -> Spend:
        moment = utc(at)
        with self._read() as cur:
            counters = self._counters(cur, moment, task_type)
        return Spend.from_counters(moment, task_type, counters)

    def _counters(self, cur: Any, moment: datetime, task_type: str | None) -> dict[tuple[str, str], float]:
        scopes = [ALL, task_scope(task_type)] if task_type else [ALL, ALL]
        cur.execute(
            self._sql("SELECT period, scope, usd FROM tierwise_spend WHERE period IN (?, ?) AND scope IN (?, ?)"),
            (day_key(moment), month_key(moment), *scopes),
        )
        return {(period, scope): float(usd) for period, scope, usd in cur.fetchall()}

    def _window(self, since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]:
        """` WHERE started_at >= ? AND started_at < ?` (the parts that apply) and its parameters."""
        where, params = [], []
        if since is not None:
            where.append("started_at >= ?")
            params.append(self._to_db_time(utc(since)))
        if until is not None:
            where.append("started_at < ?")
            params.append(self._to_db_time(utc(until)))
        return (f" WHERE {' AND '.join(where)}" if where else ""), params

    def entries(self, since: datetime | None = None, until: datetime | None = None) -> list[LedgerEntry]:
        clause, params = self._window(since, until)
        query = self._sql(f"SELECT {', '.join(COLUMNS)} FROM tierwise_calls{clause} ORDER BY started_at, call_id")
        with self._read() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
        return [self._entry(row) for row in rows]

    def _value(self, entry: LedgerEntry, name: str) -> Any:
        if name == "started_at":
            return self._to_db_time(entry.started_at)
        if name == "extra":
            return entry.extra_json()
        return getattr(entry, name)

    def _entry(self, row: tuple[Any, ...]) -> LedgerEntry:
        data = dict(zip(COLUMNS, row, strict=True))
        data["started_at"] = self._from_db_time(data["started_at"])
        data["escalated"], data["fallback"] = bool(data["escalated"]), bool(data["fallback"])
        data["extra"] = json.loads(data["extra"]) if data["extra"] else {}
        return LedgerEntry(**data)
