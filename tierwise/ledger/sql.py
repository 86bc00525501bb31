"""The ledger over SQL, shared by SQLite and PostgreSQL; backends supply connections and transactions.

Idempotency and the counters come from the database itself: `INSERT ... ON CONFLICT (call_id) DO NOTHING`
tells whether this call is new, and only a new call adds its cost to the counters, with an atomic
`ON CONFLICT ... DO UPDATE SET usd = usd + excluded.usd` in the same transaction. No read-modify-write in
Python, so concurrent workers can neither lose an update nor count a call twice.
"""

from __future__ import annotations

import json
import time
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from tierwise.errors import LedgerSchemaError

from .base import GoodCall, Hold, Ledger
from .entry import COLUMNS, LedgerEntry
from .periods import (
    ALL,
    Spend,
    TenantLimit,
    TenantSpend,
    counter_keys,
    day_key,
    month_key,
    split_scope,
    task_scope,
    utc,
)
from .shadow import ShadowStore
from .tables import SCHEMA_VERSION, Dialect, ddl

_INSERT = (f"INSERT INTO tierwise_calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
           "ON CONFLICT (call_id) DO NOTHING")
_ADD_MANY = ("INSERT INTO tierwise_spend (period, scope, usd, calls) VALUES (?, ?, ?, ?) "
             "ON CONFLICT (period, scope) DO UPDATE SET usd = tierwise_spend.usd + excluded.usd, "
             "calls = tierwise_spend.calls + excluded.calls")
_CHUNK = 500  # call ids per IN (...) query: well under every database's parameter limit
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

    def record(self, entry: LedgerEntry, reservation_id: str | None = None) -> Spend:
        with self._write() as cur:
            inserted = self._store(cur, entry)
            if reservation_id is not None:  # after the counters: every writer locks counters first (no deadlock)
                self._drop_hold(cur, reservation_id)
            counters = self._counters(cur, entry.started_at, entry.task_type)
        return Spend.from_counters(entry.started_at, entry.task_type, counters, inserted)

    def record_many(self, entries: list[LedgerEntry]) -> int:
        """Store `entries` in ONE transaction (group commit: the journal's writer thread, replays); returns how many
        were new. Idempotent per call id like `record`, so replaying a batch twice adds nothing."""
        if not entries:
            return 0
        with self._write() as cur:
            if self.dialect.for_update:  # PostgreSQL: many writers at once; row by row, as `record` does
                return sum(self._store(cur, entry) for entry in entries)
            # SQLite: this transaction holds the database's write lock, so the ids it finds absent stay absent
            # until it commits. One insert for the new rows and one upsert per counter, instead of ~4 statements a
            # row: the journal's writer thread takes that much less of the callers' GIL.
            fresh = self._absent(cur, entries)
            if fresh:
                cur.executemany(self._sql(_INSERT), [[self._value(e, name) for name in COLUMNS] for e in fresh])
                added: dict[tuple[str, str], list[float]] = {}
                for entry in fresh:
                    for key in counter_keys(entry.started_at, entry.task_type, entry.purpose, entry.tenants):
                        total = added.setdefault(key, [0.0, 0])
                        total[0] += float(entry.cost_usd)
                        total[1] += 1
                cur.executemany(self._sql(_ADD_MANY),
                                [(*key, usd, calls) for key, (usd, calls) in sorted(added.items())])
            return len(fresh)

    def _absent(self, cur: Any, entries: list[LedgerEntry]) -> list[LedgerEntry]:
        """The entries whose call id is not stored yet (the first of each id, if the batch repeats one)."""
        ids = list(dict.fromkeys(e.call_id for e in entries))
        stored: set[str] = set()
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start:start + _CHUNK]
            marks = ", ".join("?" * len(chunk))
            cur.execute(self._sql(f"SELECT call_id FROM tierwise_calls WHERE call_id IN ({marks})"), chunk)
            stored.update(row[0] for row in cur.fetchall())
        fresh = []
        for entry in entries:
            if entry.call_id not in stored:
                stored.add(entry.call_id)
                fresh.append(entry)
        return fresh

    def _store(self, cur: Any, entry: LedgerEntry) -> bool:
        """Insert the row and, only if it is new, add its cost to its counters; True if it was new."""
        cur.execute(self._sql(_INSERT), [self._value(entry, name) for name in COLUMNS])
        inserted = cur.rowcount == 1
        if inserted:
            for period, scope in counter_keys(entry.started_at, entry.task_type, entry.purpose, entry.tenants):
                cur.execute(self._sql(_ADD), (period, scope, float(entry.cost_usd)))
        return inserted

    def spend(self, at: datetime | None = None, task_type: str | None = None) -> Spend:
        moment = utc(at)
        with self._read() as cur:
            counters = self._counters(cur, moment, task_type)
            reserved = self._reserved(cur, moment, task_type, time.time())
        return Spend.from_counters(moment, task_type, counters, reserved=reserved)

    def reserve(self, reservation_id: str, usd: float, *, task_type: str | None, expires_at: float,
                hard_day_usd: float | None, hard_month_usd: float | None, at: datetime | None = None,
                tenants: Sequence[TenantLimit] = (), min_usd: float | None = None) -> Hold:
        moment, now = utc(at), time.time()
        day, month = day_key(moment), month_key(moment)
        with self._write() as cur:
            if self.dialect.for_update:
                # PostgreSQL: lock today's and this month's counter rows, in the order `record` updates them, so
                # that reservers take turns and no settle lands between reading the counters and the holds.
                ensure = self._sql("INSERT INTO tierwise_spend (period, scope, usd, calls) VALUES (?, ?, 0, 0) "
                                   "ON CONFLICT (period, scope) DO NOTHING")
                for period in sorted((day, month)):
                    cur.execute(ensure, (period, ALL))
                cur.execute(self._sql("SELECT period FROM tierwise_spend WHERE scope = ? AND period IN (?, ?) "
                                      f"ORDER BY period{self.dialect.for_update}"), (ALL, day, month))
                cur.fetchall()
            cur.execute(self._sql("DELETE FROM tierwise_reservations WHERE expires_at <= ?"), (now,))
            counters = self._counters(cur, moment, task_type)
            reserved = self._reserved(cur, moment, task_type, now)
            spend = Spend.from_counters(moment, task_type, counters, reserved=reserved)
            held: dict[str, TenantSpend] = {}
            if tenants:
                cur.execute(self._sql("DELETE FROM tierwise_label_holds WHERE expires_at <= ?"), (now,))
                held = self._tenant_spend(cur, moment, [t.scope for t in tenants], now)
            # (cap, committed, committed + held) for every hard cap this attempt is held to
            caps = [(hard_day_usd, spend.day_usd, spend.held_day()), (hard_month_usd, spend.month_usd,
                                                                      spend.held_month())]
            for t in tenants:
                caps += [(t.hard_day_usd, held[t.scope].day_usd, held[t.scope].held_day()),
                         (t.hard_month_usd, held[t.scope].month_usd, held[t.scope].held_month())]
            room = min((cap - in_use for cap, _, in_use in caps if cap is not None), default=float("inf"))
            room_settled = min((cap - spent for cap, spent, _ in caps if cap is not None), default=float("inf"))
            amount = usd
            if usd > room and min_usd is not None and usd > room_settled and min_usd <= room:
                amount = room  # the full worst case cannot fit even once the calls in flight settle: take what is left
            admitted = amount <= room
            if admitted:
                cur.execute(self._sql("INSERT INTO tierwise_reservations (reservation_id, day, month, task_type, usd, "
                                      "expires_at) VALUES (?, ?, ?, ?, ?, ?)"),
                            (reservation_id, day, month, task_type, float(amount), float(expires_at)))
                for t in tenants:
                    cur.execute(self._sql("INSERT INTO tierwise_label_holds (reservation_id, scope, day, month, usd, "
                                          "expires_at) VALUES (?, ?, ?, ?, ?, ?)"),
                                (reservation_id, t.scope, day, month, float(amount), float(expires_at)))
                    was = held[t.scope]
                    held[t.scope] = TenantSpend(was.day_usd, was.month_usd, was.reserved_day_usd + amount,
                                                was.reserved_month_usd + amount)
                spend = Spend.from_counters(moment, task_type, counters, reserved=(
                    reserved[0] + amount, reserved[1] + amount, reserved[2] + (amount if task_type else 0.0)))
        return Hold(admitted, spend, held, amount if admitted else 0.0)

    def release(self, reservation_id: str) -> None:
        with self._write() as cur:
            self._drop_hold(cur, reservation_id)

    def _drop_hold(self, cur: Any, reservation_id: str) -> None:
        cur.execute(self._sql("DELETE FROM tierwise_reservations WHERE reservation_id = ?"), (reservation_id,))
        cur.execute(self._sql("DELETE FROM tierwise_label_holds WHERE reservation_id = ?"), (reservation_id,))

    def tenant_spend(self, scopes: Sequence[str], at: datetime | None = None) -> dict[str, TenantSpend]:
        moment = utc(at)
        with self._read() as cur:
            return self._tenant_spend(cur, moment, scopes, time.time())

    def _tenant_spend(self, cur: Any, moment: datetime, scopes: Sequence[str], now: float) -> dict[str, TenantSpend]:
        """Committed spend and live holds of each tenant scope, today and this month."""
        day, month = day_key(moment), month_key(moment)
        marks = ", ".join("?" * len(scopes))
        cur.execute(self._sql(f"SELECT period, scope, usd FROM tierwise_spend WHERE period IN (?, ?) "
                              f"AND scope IN ({marks})"), (day, month, *scopes))
        committed = {(period, scope): float(usd) for period, scope, usd in cur.fetchall()}
        cur.execute(self._sql(f"SELECT scope, COALESCE(SUM(CASE WHEN day = ? THEN usd ELSE 0 END), 0), "
                              f"COALESCE(SUM(usd), 0) FROM tierwise_label_holds WHERE month = ? AND expires_at > ? "
                              f"AND scope IN ({marks}) GROUP BY scope"), (day, month, now, *scopes))
        holds = {scope: (float(d), float(m)) for scope, d, m in cur.fetchall()}
        return {scope: TenantSpend(committed.get((day, scope), 0.0), committed.get((month, scope), 0.0),
                                   *holds.get(scope, (0.0, 0.0))) for scope in scopes}

    def output_tokens(self, stage: str, model: str, limit: int) -> list[int]:
        """Output tokens (thinking included) of the `limit` latest good answers of `stage` on `model`."""
        with self._read() as cur:
            cur.execute(self._sql("SELECT output_tokens FROM tierwise_calls WHERE stage = ? AND model = ? AND "
                                  "outcome = 'ok' ORDER BY started_at DESC LIMIT ?"), (stage, model, limit))
            return [int(row[0]) for row in cur.fetchall()]

    def good_calls(self, tier: str, since: datetime, limit: int) -> list[GoodCall]:
        query = self._sql("SELECT route, stage, tier, outcome, thinking_tokens FROM tierwise_calls "
                          "WHERE tier = ? AND outcome = 'ok' AND started_at >= ? ORDER BY started_at DESC LIMIT ?")
        with self._read() as cur:
            cur.execute(query, (tier, self._to_db_time(since), limit))
            return [GoodCall(*row) for row in cur.fetchall()]

    def count_refusal(self, scopes: Sequence[str], at: datetime | None = None) -> None:
        """One more refused call today for each of `scopes` (`refusal_scope`s): `tierwise report --by label:K`."""
        day = day_key(utc(at))
        with self._write() as cur:
            for scope in sorted(scopes):
                cur.execute(self._sql("INSERT INTO tierwise_spend (period, scope, usd, calls) VALUES (?, ?, 0, 1) "
                                      "ON CONFLICT (period, scope) DO UPDATE SET calls = tierwise_spend.calls + 1"),
                            (day, scope))

    def label_totals(self, key: str, at: datetime | None = None) -> dict[str, dict[str, float]]:
        """Per value of label `key`: spend today and this month (UTC), calls today, refusals today."""
        moment = utc(at)
        day, month = day_key(moment), month_key(moment)
        with self._read() as cur:
            cur.execute(self._sql("SELECT period, scope, usd, calls FROM tierwise_spend WHERE period IN (?, ?) AND "
                                  "(substr(scope, 1, ?) = ? OR substr(scope, 1, ?) = ?)"),
                        (day, month, len(f"label:{key}="), f"label:{key}=", len(f"refused:{key}="),
                         f"refused:{key}="))
            rows = cur.fetchall()
        out: dict[str, dict[str, float]] = {}
        for period, scope, usd, calls in rows:
            for kind in ("label", "refused"):
                value = split_scope(scope, kind, key)
                if value is None:
                    continue
                row = out.setdefault(value, {"day_usd": 0.0, "month_usd": 0.0, "calls_today": 0, "refused_today": 0})
                if kind == "refused":
                    row["refused_today"] += int(calls) if period == day else 0
                elif period == day:
                    row["day_usd"], row["calls_today"] = float(usd), int(calls)
                else:
                    row["month_usd"] = float(usd)
        return out

    def _reserved(self, cur: Any, moment: datetime, task_type: str | None, now: float) -> tuple[float, float, float]:
        """Live holds (not expired) for the UTC day and month of `moment`, and for `task_type` that day."""
        day = day_key(moment)
        cur.execute(
            self._sql("SELECT COALESCE(SUM(CASE WHEN day = ? THEN usd ELSE 0 END), 0), COALESCE(SUM(usd), 0), "
                      "COALESCE(SUM(CASE WHEN day = ? AND task_type = ? THEN usd ELSE 0 END), 0) "
                      "FROM tierwise_reservations WHERE month = ? AND expires_at > ?"),
            (day, day, task_type or "", month_key(moment), now),
        )
        row = cur.fetchone()
        return float(row[0]), float(row[1]), float(row[2])

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
