"""The default SQLite ledger's journal: a record the caller has seen survives kill -9; torn lines are skipped;
a process reads its own writes at once."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from tierwise.ledger import open_ledger, resolve_url
from tierwise.ledger.journal import journal_dir

WORKER = Path(__file__).with_name("journal_worker.py")


def stored_ids(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:  # a raw read: no replay, no drain
        return {row[0] for row in conn.execute("SELECT call_id FROM tierwise_calls")}


def test_a_record_the_caller_saw_survives_kill_9(tmp_path):
    db = tmp_path / "ledger.db"
    env = {**os.environ, "TIERWISE_LEDGER_URL": f"sqlite:///{db}"}
    proc = subprocess.run([sys.executable, str(WORKER), "my card was charged twice"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    call_id = proc.stdout.strip()
    assert call_id and call_id not in stored_ids(db)  # never committed by the killed process
    assert len(list(journal_dir(db).glob("*.jsonl"))) == 1

    with open_ledger(f"sqlite:///{db}") as ledger:  # the next process to open the ledger replays the journal
        [entry] = [e for e in ledger.entries() if e.call_id == call_id]
        assert entry.stage == "draft" and entry.request_id == "killed-request" and entry.cost_usd > 0
        assert ledger.spend().day_usd == entry.cost_usd  # the counters moved with it, once
    assert not list(journal_dir(db).glob("*.jsonl"))
    with open_ledger(f"sqlite:///{db}") as again:  # replayed once: opening again adds nothing
        assert len(again.entries()) == 1 and again.spend().day_usd == entry.cost_usd


def test_a_torn_last_line_is_skipped_and_the_rest_replayed(tmp_path):
    db = tmp_path / "ledger.db"
    open_ledger(f"sqlite:///{db}").close()
    row = {"call_id": "c1", "stage": "draft", "tier": "lite", "model": "gemini-3.5-flash-lite",
           "started_at": datetime.now(UTC).isoformat(), "cost_usd": 0.25, "outcome": "ok"}
    journal_dir(db).mkdir()
    torn = json.dumps({**row, "call_id": "c2"})[:40]  # the process died mid-write: its call never returned
    (journal_dir(db) / "999999-dead.jsonl").write_text(json.dumps(row) + "\n" + torn)
    with open_ledger(f"sqlite:///{db}") as ledger:
        assert [e.call_id for e in ledger.entries()] == ["c1"]
        assert ledger.spend().day_usd == 0.25


def test_the_call_path_journals_and_a_reader_sees_its_own_writes_at_once(scripted):
    from tierwise import call_stage

    _, context = scripted([{"system": ".", "reply": {"answer": "ok", "confidence": "high"}}])
    result = call_stage("draft", [("system", "answer briefly"), ("user", "hi")], context=context)
    url = resolve_url()
    assert len(list(journal_dir(Path(url.removeprefix("sqlite:///"))).glob("*.jsonl"))) == 1  # the journal path
    with open_ledger(url) as ledger:
        assert [e.call_id for e in ledger.entries()] == [result.record.call_id]


def _row(call_id: str, cost: float = 0.25) -> dict:
    from tierwise.ledger.entry import entry_row
    from tierwise.state import CallRecord

    return entry_row(CallRecord(call_id=call_id, stage="draft", tier="lite", model="gemini-3.5-flash-lite",
                                cost_usd=cost, purpose="eval"), request_id="r1", prompt_sha256="ab")


def test_a_reader_does_not_wait_out_the_group_window(tmp_path):
    from tierwise.ledger.journal import GROUP_SECONDS, journal_for

    with open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        journal = journal_for(ledger)
        journal.append(_row("c1"))
        started = time.monotonic()
        [entry] = ledger.entries()  # drains: the writer commits now, not at the end of its gathering window
        assert time.monotonic() - started < GROUP_SECONDS * 20  # generous: only a 1000 ms stall would fail
        assert entry.call_id == "c1" and entry.request_id == "r1" and entry.purpose == "eval"


def test_many_threads_append_and_every_record_is_stored_once(tmp_path):
    from tierwise.ledger.journal import journal_for

    with open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        journal = journal_for(ledger)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda i: journal.append(_row(f"c{i}", 0.5)), range(400)))
        assert sorted(e.call_id for e in ledger.entries()) == sorted(f"c{i}" for i in range(400))
        assert ledger.spend().day_usd == 200.0


def test_a_malformed_row_is_logged_and_the_rows_after_it_are_still_committed(tmp_path, caplog):
    from tierwise.ledger.journal import journal_for

    with open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        journal = journal_for(ledger)
        journal.append({**_row("bad"), "no_such_column": 1})
        journal.append(_row("good"))
        assert [e.call_id for e in ledger.entries()] == ["good"]
    assert "malformed" in caplog.text


def test_a_record_sqlite_cannot_store_is_left_out_and_does_not_hold_back_the_others(tmp_path, caplog):
    from tierwise.ledger.journal import journal_for

    with open_ledger(f"sqlite:///{tmp_path / 'ledger.db'}") as ledger:
        journal = journal_for(ledger)
        journal.append(_row("before"))
        journal.append({**_row("poison"), "route": ["a", "list"]})  # no SQLite column type takes a list
        journal.append(_row("after"))
        assert sorted(e.call_id for e in ledger.entries()) == ["after", "before"]
    assert "cannot be stored" in caplog.text


def test_a_call_records_row_is_its_model_dump():
    """The journal builds a CallRecord's row from its fields directly (the hot path): the same as pydantic's dump,
    which stops holding if a field that is not a plain value (a nested model) is ever added."""
    from tierwise.ledger.entry import entry_row
    from tierwise.state import CallRecord

    record = CallRecord(call_id="c1", stage="draft", tier="lite", model="gemini-3.5-flash-lite", input_tokens=3,
                        cost_usd=0.25, error="x", started_at=datetime(2026, 12, 3, tzinfo=UTC))
    assert dict(record.__dict__) == record.model_dump(mode="python")
    assert all(isinstance(v, str | int | float | bool | datetime | type(None)) for v in record.__dict__.values())
    row = entry_row(record, route="simple")
    assert row["route"] == "simple" and row["cost_usd"] == 0.25 and row["started_at"].startswith("2026-12-03")
