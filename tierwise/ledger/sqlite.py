"""The SQLite ledger: one file, WAL, safe for many threads and several processes on one machine.

Writes take SQLite's write lock up front (BEGIN IMMEDIATE), so a transaction never has to upgrade a read lock
and fail with "database is locked"; threads of one process queue on a Python lock first, so only other
processes ever make SQLite wait. Readers never block the writer (WAL).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from tierwise.errors import LedgerError

from . import journal
from .periods import utc
from .pool import Pool
from .sql import SqlLedger
from .tables import SQLITE

BUSY_SECONDS = 30.0
MAX_CONNECTIONS = 64

class SQLiteLedger(SqlLedger):
    dialect = SQLITE

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        self.path = Path(path).expanduser().resolve()
        self.url = f"sqlite:///{self.path}"
        if not self.path.exists():
            if not create:
                raise LedgerError(f"no ledger at {self.path} (nothing has been recorded there yet)")
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LedgerError(f"cannot create the ledger directory {self.path.parent}: {exc.strerror}") from None
        # Writers on this ledger object queue here rather than in SQLite's busy handler; another object (another
        # runtime) or process on the same file meets SQLite's own lock, as a second process always has.
        self._lock, self._lock_pid = threading.Lock(), os.getpid()
        self._pool = Pool(self._connect, MAX_CONNECTIONS, str(self.path))
        self._use_wal()
        self._create_schema()
        journal.replay_orphans(self)  # records journaled by a process that died before committing them

    def _connect(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None, check_same_thread=False)
            # In WAL mode NORMAL survives an application crash; only a power cut may lose the last commits.
            conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from None
        return conn

    def _use_wal(self) -> None:
        # Switching to WAL needs a moment without other writers; a process opening the file at the same
        # time may hold it briefly.
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                with self._pool.connection() as conn, self._write_lock():
                    conn.execute("PRAGMA journal_mode=WAL").fetchone()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from None
                time.sleep(0.05)
            except sqlite3.DatabaseError as exc:
                raise LedgerError(f"cannot open the ledger {self.path}: {exc}") from None

    def _write_lock(self) -> threading.Lock:
        if self._lock_pid != os.getpid():  # a lock another thread held at fork time would stay locked in the child
            self._lock, self._lock_pid = threading.Lock(), os.getpid()
        return self._lock

    @contextmanager
    def _read(self) -> Iterator[Any]:
        journal.drain(self.path)  # read this process's own writes
        try:
            with self._pool.connection() as conn:
                yield conn.cursor()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot read the ledger {self.path}: {exc}") from exc

    @contextmanager
    def _write(self) -> Iterator[Any]:
        try:
            with self._pool.connection() as conn, self._write_lock():
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    yield cur
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except sqlite3.Error as exc:
            raise LedgerError(f"cannot write the ledger {self.path}: {exc}") from exc

    def _to_db_time(self, moment: datetime) -> str:
        # Fixed-width ISO text in UTC: text order is time order, so ranges use the index.
        return utc(moment).isoformat(timespec="microseconds")

    def _from_db_time(self, value: Any) -> datetime:
        return utc(datetime.fromisoformat(value))

    def close(self) -> None:
        journal.close(self)
        self._pool.close()
