"""The call path's fast durable write for a SQLite ledger: an append-only journal, group-committed by one thread.

Why: a SQLite transaction per record costs ~10 system calls (file locks on the database and its shared memory,
one write per touched page of the table and its three indexes, the counters) on the caller's critical path —
most of tierwise's overhead over bare LangGraph with the ledger on. Here the caller pays one `write(2)` of one
JSON line; a writer thread moves the lines into the ledger, many per transaction, while the caller goes on.

Durability: once `append` returns, the line is in the kernel's page cache, so it survives the process being
killed (kill -9, an OOM kill, a crash); like SQLite's WAL with synchronous=NORMAL, it does NOT survive a power
loss or an OS crash. A journal left behind by a dead process (its lock is free) is replayed into the ledger the
next time any process opens it (records are idempotent per call id, so a replay adds nothing twice), and
readers in this process first wait for its own pending lines: a process always reads its own writes.

Spend caps never use this path: with caps configured, the hook stores each record synchronously in the same
transaction as the counters the next cap check reads (see hook.py).
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import secrets
import sqlite3
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tierwise.errors import LedgerError

from .entry import LedgerEntry

if TYPE_CHECKING:
    from .sqlite import SQLiteLedger

log = logging.getLogger("tierwise.ledger")
DRAIN_SECONDS = 30.0  # a reader waits at most this long for this process's own pending records
RETRY_SECONDS = 1.0  # after a failed group commit (database locked for long, disk full): the lines stay journaled
TRUNCATE_BYTES = 1 << 20  # a journal whose lines are all committed is emptied once it is this big
SUFFIX = ".jsonl"
GROUP_SECONDS = 0.05  # the writer gathers lines this long into one transaction (readers in this process don't wait)
GROUP_MAX = 512  # ... or until this many are queued


def journal_dir(db_path: Path) -> Path:
    """Where journals of the ledger at `db_path` live (not `-journal`: that name is SQLite's own)."""
    return db_path.with_name(db_path.name + "-pending")


class Journal:
    """This process's journal for one SQLite ledger: `append` (durable on return), `drain` (wait until committed)."""

    def __init__(self, ledger: SQLiteLedger) -> None:
        self.ledger = ledger
        folder = journal_dir(ledger.path)
        try:
            folder.mkdir(exist_ok=True)
            self.path = folder / f"{os.getpid()}-{secrets.token_hex(4)}{SUFFIX}"
            # O_NONBLOCK changes nothing for a regular file (page-cache writes complete), but tells blocking-call
            # detectors (`langgraph dev`) that a write on the event loop is the cheap, non-waiting kind it is.
            self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK | os.O_CLOEXEC,
                               0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held for life: tells replays we are alive
        except OSError as exc:
            raise LedgerError(f"cannot open a ledger journal in {folder}: {exc.strerror}") from None
        self._cond = threading.Condition()
        self._pending: list[bytes] = []  # journaled lines not yet committed
        self._committing = 0  # lines taken by the writer, not yet committed
        self._size = 0  # bytes in the file
        self._closed = False
        self._drainers = 0  # threads waiting in drain()
        self._thread = threading.Thread(target=self._run, name=f"tierwise-ledger-writer-{self.path.stem}",
                                        daemon=True)
        self._thread.start()

    def append(self, row: dict[str, Any]) -> None:
        """Journal `row` (an `entry_row`: one write of one line) and queue it for the ledger; durable against a
        process kill on return. The writer thread stores what the line says (as a replay would), off the caller's
        path."""
        line = (_encode(row) + "\n").encode()
        with self._cond:
            if self._closed:  # closed under us (the ledger was closed): store it the slow, synchronous way
                commit_lines(self.ledger, [line])
                return
            _write_all(self._fd, line)
            self._size += len(line)
            self._pending.append(line)
            if len(self._pending) in (1, GROUP_MAX):  # wake the writer to start a group, or to end a full one
                self._cond.notify()

    def drain(self, timeout: float | None = None) -> bool:
        """Wait until every line appended so far is committed to the ledger; False if `timeout` ran out first."""
        with self._cond:
            self._drainers += 1
            self._cond.notify_all()  # the writer stops gathering and commits now
            try:
                return self._cond.wait_for(lambda: not self._pending and not self._committing, timeout)
            finally:
                self._drainers -= 1

    def close(self, timeout: float = 30.0) -> None:
        """Commit what is pending, stop the writer, delete the (then empty) journal. What cannot be committed
        stays in the file, for the next process that opens the ledger."""
        drained = self.drain(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        if drained:
            _unlink_quietly(self.path)
        os.close(self._fd)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending or self._closed)
                # Group commit: gather what arrives within the window into one transaction (fewer commits, and
                # less GIL taken from callers), unless someone waits for it (a reader, close) or a lot is queued.
                self._cond.wait_for(lambda: self._closed or self._drainers or len(self._pending) >= GROUP_MAX,
                                    GROUP_SECONDS)
                if not self._pending:
                    return  # closed, and nothing left
                lines, self._pending = self._pending, []
                self._committing = len(lines)
            try:
                commit_lines(self.ledger, lines)
            except Exception as exc:  # noqa: BLE001 - the lines stay journaled; retry, never lose them
                log.warning("ledger group commit failed, retrying in %.0f s: %s", RETRY_SECONDS, exc)
                with self._cond:
                    self._pending[:0] = lines
                    self._committing = 0
                    self._cond.wait(RETRY_SECONDS)
                continue
            with self._cond:
                self._committing = 0
                if not self._pending and self._size >= TRUNCATE_BYTES:
                    # All committed: the file restarts empty (O_APPEND follows). Not after every batch: a
                    # truncate is a filesystem metadata update, slower than the append it would follow.
                    os.ftruncate(self._fd, 0)
                    self._size = 0
                self._cond.notify_all()

    def forget(self) -> None:
        """In a forked child: this journal (its thread, its lock) is the parent's; drop the inherited descriptor
        without touching the file or the lock, which the parent keeps."""
        os.close(self._fd)


def commit_lines(ledger: SQLiteLedger, lines: list[bytes]) -> int:
    """Store journaled `lines` in one transaction; returns how many records were new. A failure of the moment
    (locked, disk full) is raised: the lines stay journaled, and committing them again adds nothing twice (records
    are idempotent per call id). A record SQLite can never take (a value of a type it cannot store) would fail every
    retry and hold back every record after it: then the lines go in one by one, and such a record is logged and
    left out."""
    try:
        return ledger.record_many(_entries(lines))
    except Exception as exc:
        if not _unstorable(exc):
            raise
    added = 0
    for line in lines:
        try:
            added += ledger.record_many(_entries([line]))
        except Exception as exc:
            if not _unstorable(exc):
                raise
            log.error("a call record cannot be stored in the ledger and was left out (%s): %s", exc, _show(line))
    return added


def replay_orphans(ledger: SQLiteLedger) -> int:
    """Commit the lines of journals whose process is gone (their lock is free), then delete them; returns how many
    records were new. A torn last line (the process died mid-write, so its call never returned) is skipped."""
    folder = journal_dir(ledger.path)
    if not folder.is_dir():
        return 0
    added = 0
    for path in sorted(folder.glob("*" + SUFFIX)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            continue  # another process replayed it first
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process owns it (maybe this one)
            with os.fdopen(os.dup(fd), "rb") as file:
                lines = [line for line in file if line.endswith(b"\n")]  # not a torn last line
            added += commit_lines(ledger, lines)
            _unlink_quietly(path)
        finally:
            os.close(fd)
    return added


_journals: dict[Path, Journal] = {}
_guard = threading.Lock()


def journal_for(ledger: SQLiteLedger) -> Journal:
    """This process's journal for `ledger`'s file (one per file, shared by every ledger object on it)."""
    journal = _journals.get(ledger.path)
    if journal is None:
        with _guard:
            journal = _journals.get(ledger.path)
            if journal is None:
                journal = _journals[ledger.path] = Journal(ledger)
    return journal


def journal_open(ledger: SQLiteLedger) -> bool:
    return ledger.path in _journals


def drain(path: Path, timeout: float = DRAIN_SECONDS) -> None:
    """Before reading the ledger at `path`: wait for this process's own journaled records to be committed."""
    journal = _journals.get(path)
    if journal is not None and threading.current_thread() is not journal._thread:
        journal.drain(timeout)


def drain_all(timeout: float = DRAIN_SECONDS) -> None:
    """Wait until every journal of this process has committed what it was given (benchmarks, short scripts)."""
    for journal in list(_journals.values()):
        journal.drain(timeout)


def close(ledger: SQLiteLedger) -> None:
    """`ledger` is closing: commit and close the journal it writes through, if any."""
    with _guard:
        journal = _journals.get(ledger.path)
        if journal is None or journal.ledger is not ledger:
            return
        del _journals[ledger.path]
    journal.close()


@atexit.register
def close_all() -> None:
    with _guard:
        journals = list(_journals.values())
        _journals.clear()
    for journal in journals:
        journal.close()


def _forget_after_fork() -> None:
    global _guard
    _guard = threading.Lock()
    for journal in _journals.values():
        journal.forget()
    _journals.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def _entries(lines: list[bytes]) -> list[LedgerEntry]:
    """The journaled lines as entries. A line that is no entry (it cannot happen with rows from `entry_row`; this is
    the guard that keeps one bad line from stopping every commit after it) is logged and left out."""
    entries = []
    for line in lines:
        entry = _parse(line)
        if entry is None:
            log.error("a journaled call record is malformed and was not stored: %s", _show(line))
        else:
            entries.append(entry)
    return entries


def _show(line: bytes) -> str:
    return line[:500].decode(errors="replace").rstrip()


def _unstorable(exc: BaseException) -> bool:
    """The database refused a value itself (a type it cannot bind), not the moment (locked, full, I/O)."""
    cause = exc.__cause__ or exc
    return isinstance(cause, sqlite3.Error) and not isinstance(cause, sqlite3.OperationalError)


_encode = json.JSONEncoder(separators=(",", ":"), default=str).encode  # built once: json.dumps builds one per call


def _parse(line: bytes) -> LedgerEntry | None:
    try:
        return LedgerEntry.from_row(json.loads(line))
    except (ValueError, TypeError, KeyError):
        return None


def _write_all(fd: int, data: bytes) -> None:
    while data:
        data = data[os.write(fd, data):]


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass
