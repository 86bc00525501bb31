"""The ledger stores every CallRecord once, with what reports group by; on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import asdict
from datetime import UTC, datetime, timedelta

import pytest

from tierwise.ledger import LedgerEntry, LedgerError, default_path, open_ledger, resolve_url
from tierwise.state import CallRecord

from .factory import record, registry


def test_round_trip_keeps_every_field(ledger_url):
    rec = record(0.0123, stage="judge", tier="flash", model="gemini-3.8-flash", input_tokens=120, output_tokens=60,
                 thinking_tokens=40, cached_tokens=20, all_pro_cost_usd=0.05, latency_ms=12.5, outcome="unusable",
                 error="output does not fit Score", task_type="support-ticket", service_tier="flex",
                 input_cost_usd=0.0023, output_cost_usd=0.01, cached_input_cost_usd=0.0001, thinking_cost_usd=0.006,
                 started_at=datetime(2026, 11, 20, 9, 30, 1, 123456, tzinfo=UTC))
    entry = LedgerEntry.from_record(rec, request_id="req-1", route="simple", escalated=True, service_tier="flex")
    with open_ledger(ledger_url) as ledger:
        assert ledger.record(entry).inserted
        [back] = ledger.entries()
    assert back == entry
    assert back.started_at == rec.started_at and back.started_at.tzinfo is not None
    stored = {**asdict(back), **back.extra}  # fields without a column of their own live in `extra`
    for name in CallRecord.model_fields:
        assert stored[name] == getattr(rec, name), name


def test_a_batch_stores_each_new_call_once_and_counts_it_once(ledger_url):
    day = datetime(2026, 11, 20, 12, tzinfo=UTC)
    stored = LedgerEntry.from_record(record(1.0, call_id="old", task_type="a", started_at=day))
    again = LedgerEntry.from_record(record(2.0, call_id="new", task_type="a", started_at=day))
    shadow = LedgerEntry.from_record(record(4.0, call_id="shadow", started_at=day, purpose="shadow"))
    with open_ledger(ledger_url) as ledger:
        ledger.record(stored)
        added = ledger.record_many([stored, again, again, shadow, LedgerEntry.from_record(
            record(8.0, call_id="yesterday", task_type="b", started_at=day - timedelta(days=1)))])
        assert added == 3  # "old" was stored already; "new" is in the batch twice
        assert sorted(e.call_id for e in ledger.entries()) == ["new", "old", "shadow", "yesterday"]
        spend = ledger.spend(day, "a")
        assert (spend.day_usd, spend.task_day_usd, spend.month_usd) == (3.0, 3.0, 11.0)  # shadow is capped apart
        assert ledger.record_many([stored, again, shadow]) == 0 and ledger.spend(day).month_usd == 11.0


def test_writes_are_idempotent_per_call_id(ledger_url):
    entry = LedgerEntry.from_record(record(0.25, task_type="t"))
    with open_ledger(ledger_url) as ledger:
        first = ledger.record(entry)
        again = ledger.record(entry)
        assert first.inserted and not again.inserted
        assert first.day_usd == again.day_usd == 0.25  # a duplicate adds nothing to the counters
        assert len(ledger.entries()) == 1


def test_counters_split_by_utc_day_month_and_task_type(ledger_url):
    day = datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    with open_ledger(ledger_url) as ledger:
        ledger.record(LedgerEntry.from_record(record(1.0, task_type="a", started_at=day)))
        ledger.record(LedgerEntry.from_record(record(2.0, task_type="b", started_at=day)))
        ledger.record(LedgerEntry.from_record(record(4.0, task_type="a", started_at=day + timedelta(hours=2))))
        ledger.record(LedgerEntry.from_record(record(8.0, started_at=day - timedelta(days=1))))
        nov30 = ledger.spend(day, "a")
        dec1 = ledger.spend(day + timedelta(hours=2), "a")
    assert (nov30.day, nov30.month) == ("2026-11-30", "2026-11")
    assert (nov30.day_usd, nov30.month_usd, nov30.task_day_usd) == (3.0, 11.0, 1.0)
    assert (dec1.day_usd, dec1.month_usd, dec1.task_day_usd) == (4.0, 4.0, 4.0)


def test_entries_since_and_until(ledger_url):
    base = datetime(2026, 11, 1, tzinfo=UTC)
    with open_ledger(ledger_url) as ledger:
        for i in range(5):
            ledger.record(LedgerEntry.from_record(record(call_id=f"c{i}", started_at=base + timedelta(days=i))))
        got = [e.call_id for e in ledger.entries(since=base + timedelta(days=1), until=base + timedelta(days=3))]
    assert got == ["c1", "c2"]


def test_prompt_is_a_hash_unless_opted_in(ledger_url):
    messages = [("system", "Score 1-10."), ("user", "My card was charged twice.")]
    hidden = LedgerEntry.from_record(record(call_id="hidden"), prompt=messages)
    shown = LedgerEntry.from_record(record(call_id="shown"), prompt=messages, store_prompt=True)
    with open_ledger(ledger_url) as ledger:
        ledger.record(hidden)
        ledger.record(shown)
        stored = {e.call_id: e for e in ledger.entries()}
    text = '[["system", "Score 1-10."], ["user", "My card was charged twice."]]'
    digest = hashlib.sha256(text.encode()).hexdigest()
    assert stored["hidden"].prompt_sha256 == stored["shown"].prompt_sha256 == digest
    assert stored["hidden"].prompt_text is None
    assert stored["shown"].prompt_text == text


def test_the_guard_stores_prompts_only_when_the_registry_says_so(sqlite_url):
    from tierwise.budget import SpendGuard

    with open_ledger(sqlite_url) as ledger:
        SpendGuard(ledger, registry()).after_call(record(call_id="a"), prompt="secret")
        SpendGuard(ledger, registry(ledger={"store_prompts": True})).after_call(record(call_id="b"), prompt="secret")
        stored = {e.call_id: e.prompt_text for e in ledger.entries()}
    assert stored == {"a": None, "b": "secret"}


def test_fields_a_newer_call_record_adds_are_kept(ledger_url):
    class NewerRecord(CallRecord):
        fallback_from: str | None = None

    rec = NewerRecord(call_id="x", stage="draft", tier="lite", model="m", fallback_from="gemini-3.1-flash-lite")
    with open_ledger(ledger_url) as ledger:
        ledger.record(LedgerEntry.from_record(rec))
        [back] = ledger.entries()
    assert back.extra["fallback_from"] == "gemini-3.1-flash-lite"


def test_default_location_is_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "tierwise" / "ledger.db"
    with open_ledger() as ledger:
        ledger.record(LedgerEntry.from_record(record()))
    assert default_path().is_file()
    mode = sqlite3.connect(default_path()).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"


def test_url_precedence_argument_env_registry_default(tmp_path, monkeypatch):
    reg = registry(ledger={"url": "sqlite:///from-registry.db"})
    assert resolve_url(None, reg) == "sqlite:///from-registry.db"
    monkeypatch.setenv("TIERWISE_LEDGER_URL", "postgresql://h/db")
    assert resolve_url(None, reg) == "postgresql://h/db"
    assert resolve_url("sqlite:///x.db", reg) == "sqlite:///x.db"
    monkeypatch.delenv("TIERWISE_LEDGER_URL")
    assert resolve_url(None, registry()) == f"sqlite:///{default_path()}"


def test_sqlite_url_forms(tmp_path):
    with open_ledger("sqlite:///relative.db") as ledger:  # cwd is tmp_path
        assert ledger.url == f"sqlite:///{tmp_path / 'relative.db'}"
    with open_ledger(f"sqlite:///{tmp_path / 'abs.db'}") as ledger:
        assert ledger.url.endswith("/abs.db")
    with open_ledger(str(tmp_path / "plain.db")) as ledger:
        assert ledger.url.endswith("/plain.db")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://h/db", "unknown ledger URL scheme 'mysql'"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("postgresql://nobody:hunter2@127.0.0.1:1/x", "cannot connect to the ledger at postgresql://nobody:***@"),
    ],
)
def test_bad_urls_fail_clearly(url, message):
    pytest.importorskip("psycopg")
    with pytest.raises(LedgerError, match=message.replace("*", r"\*")) as err:
        open_ledger(url)
    assert "hunter2" not in str(err.value)


def test_missing_file_is_not_created_when_only_reading(tmp_path):
    with pytest.raises(LedgerError, match="no ledger at"):
        open_ledger(str(tmp_path / "none.db"), create=False)
    assert not (tmp_path / "none.db").exists()


def test_a_file_that_is_not_a_database_fails_clearly(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"not a database" * 100)
    with pytest.raises(LedgerError, match="junk.db"):
        open_ledger(str(tmp_path / "junk.db"))


def test_a_newer_schema_is_refused(sqlite_url, tmp_path):
    open_ledger(sqlite_url).close()
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        conn.execute("UPDATE tierwise_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(LedgerError, match="schema version 99"):
        open_ledger(sqlite_url)


def test_postgres_replaces_connections_the_server_dropped(pg_url, monkeypatch):
    import psycopg

    from tierwise.ledger import pool

    monkeypatch.setattr(pool, "CHECK_AFTER_IDLE_SECONDS", 0.0)
    with open_ledger(pg_url) as ledger:
        ledger.record(LedgerEntry.from_record(record(call_id="before")))
        with psycopg.connect(pg_url, autocommit=True) as admin:  # e.g. a server restart or an idle timeout
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ledger.record(LedgerEntry.from_record(record(call_id="after")))
        assert {e.call_id for e in ledger.entries()} == {"before", "after"}
