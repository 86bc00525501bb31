"""Shadow pairs in the ledger: a stage's answer, the same stage's answer on a higher tier, and the judge's verdict.

Stored beside the call records (table `tierwise_shadow`) so `tierwise suggest` can read one database; the calls
themselves are ordinary rows of `tierwise_calls` marked `purpose = "shadow"`, counted on the shadow counters.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .periods import SHADOW, day_key, utc

VERDICTS = ("shadow_better", "same", "base_better")


@dataclass(frozen=True)
class ShadowPair:
    shadow_id: str
    started_at: datetime
    stage: str
    task_type: str | None
    request_id: str | None
    base_call_id: str
    base_tier: str
    base_model: str
    base_score: int | None
    base_cost_usd: float
    shadow_call_id: str
    shadow_tier: str
    shadow_model: str
    shadow_score: int | None
    shadow_cost_usd: float
    judge_tier: str | None
    judge_cost_usd: float
    verdict: str  # one of VERDICTS
    reason: str | None = None

    @property
    def quality_gap(self) -> float | None:
        """Higher tier's quality minus the base's, on 0..1 (judge score / 10); None if either is unscored."""
        if self.base_score is None or self.shadow_score is None:
            return None
        return (self.shadow_score - self.base_score) / 10


SHADOW_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(ShadowPair))


class ShadowStore:
    """Mixed into SqlLedger: uses its `_read`, `_write`, `_sql`, `_window` and time conversions."""

    if TYPE_CHECKING:  # provided by SqlLedger

        def _window(self, since: datetime | None, until: datetime | None) -> tuple[str, list[Any]]: ...

    def record_shadow(self, pair: ShadowPair) -> bool:
        """Store `pair` unless its id is already stored; True if it was new."""
        values = [self._to_db_time(utc(pair.started_at)) if name == "started_at" else getattr(pair, name)
                  for name in SHADOW_COLUMNS]
        insert = self._sql(
            f"INSERT INTO tierwise_shadow ({', '.join(SHADOW_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(SHADOW_COLUMNS))}) ON CONFLICT (shadow_id) DO NOTHING"
        )
        with self._write() as cur:
            cur.execute(insert, values)
            return cur.rowcount == 1

    def shadow_pairs(self, since: datetime | None = None, until: datetime | None = None) -> list[ShadowPair]:
        """Stored pairs started in [since, until), oldest first."""
        clause, params = self._window(since, until)
        query = self._sql(
            f"SELECT {', '.join(SHADOW_COLUMNS)} FROM tierwise_shadow{clause} ORDER BY started_at, shadow_id"
        )
        with self._read() as cur:
            cur.execute(query, params)
            rows = cur.fetchall()
        return [self._pair(row) for row in rows]

    def shadow_spend(self, at: datetime | None = None) -> float:
        """Shadow spend (shadow and judge calls) committed for the UTC day of `at` (now if None)."""
        with self._read() as cur:
            cur.execute(self._sql("SELECT usd FROM tierwise_spend WHERE period = ? AND scope = ?"),
                        (day_key(utc(at)), SHADOW))
            row = cur.fetchone()
        return float(row[0]) if row else 0.0

    def _pair(self, row: tuple[Any, ...]) -> ShadowPair:
        data = dict(zip(SHADOW_COLUMNS, row, strict=True))
        data["started_at"] = self._from_db_time(data["started_at"])
        for name in ("base_cost_usd", "shadow_cost_usd", "judge_cost_usd"):
            data[name] = float(data[name])
        return ShadowPair(**data)

    # Supplied by SqlLedger.
    _read: Any
    _write: Any
    _sql: Any
    _to_db_time: Any
    _from_db_time: Any
