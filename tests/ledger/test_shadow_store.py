"""Shadow pairs and shadow spend in the ledger, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tierwise.ledger import LedgerEntry, ShadowPair, open_ledger

from .factory import record


def pair(shadow_id: str, started_at: datetime, verdict: str = "shadow_better") -> ShadowPair:
    return ShadowPair(
        shadow_id=shadow_id, started_at=started_at, stage="draft", task_type="B", request_id="r1",
        base_call_id="c1", base_tier="lite", base_model="gemini-3.5-flash-lite", base_score=2, base_cost_usd=0.001,
        shadow_call_id="c2", shadow_tier="pro", shadow_model="gemini-3.1-pro-preview", shadow_score=9,
        shadow_cost_usd=0.01, judge_tier="flash", judge_cost_usd=0.002, verdict=verdict, reason="base: x | shadow: y",
    )


def test_pairs_round_trip_once_per_id_and_filter_by_time(ledger_url):
    day = datetime(2026, 11, 20, 9, 30, 1, 123456, tzinfo=UTC)
    with open_ledger(ledger_url) as ledger:
        assert ledger.record_shadow(pair("p1", day))
        assert not ledger.record_shadow(pair("p1", day))  # idempotent per id
        ledger.record_shadow(pair("p2", day + timedelta(days=2), "same"))
        assert ledger.shadow_pairs() == [pair("p1", day), pair("p2", day + timedelta(days=2), "same")]
        assert [p.shadow_id for p in ledger.shadow_pairs(since=day + timedelta(days=1))] == ["p2"]
    assert pair("p1", day).quality_gap == pytest.approx(0.7)


def test_shadow_calls_count_on_their_own_counter(ledger_url):
    day = datetime(2026, 11, 20, 9, tzinfo=UTC)
    with open_ledger(ledger_url) as ledger:
        ledger.record(LedgerEntry.from_record(record(1.0, task_type="B", started_at=day)))
        ledger.record(LedgerEntry.from_record(record(0.25, task_type="B", started_at=day, purpose="shadow")))
        ledger.record(LedgerEntry.from_record(record(0.5, started_at=day, purpose="eval")))
        spend = ledger.spend(day, "B")
        assert (spend.day_usd, spend.month_usd, spend.task_day_usd) == (1.5, 1.5, 1.0)
        assert ledger.shadow_spend(day) == 0.25 and ledger.shadow_spend(day + timedelta(days=1)) == 0.0
        purposes = sorted(str(e.purpose) for e in ledger.entries())
    assert purposes == ["None", "eval", "shadow"]
