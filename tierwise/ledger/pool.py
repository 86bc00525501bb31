"""A small bounded connection pool shared by both backends.

One connection per concurrent caller lets SQLite readers run beside the writer (WAL) and PostgreSQL serve
requests in parallel; the bound keeps 64 busy threads from opening 64 server connections each.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tierwise.errors import LedgerError

WAIT_SECONDS = 60.0
CHECK_AFTER_IDLE_SECONDS = 30.0


class Pool:
    """`check(conn)` (optional) vets a connection idle for a while: a server restart or an idle timeout leaves
    dead connections behind, and the first call on one would fail."""

    def __init__(self, connect: Callable[[], Any], max_size: int, describe: str,
                 check: Callable[[Any], bool] | None = None) -> None:
        self._connect = connect
        self._max_size = max_size
        self._describe = describe
        self._check = check
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[tuple[Any, float]] = []
        self._slots = threading.BoundedSemaphore(self._max_size)
        self._pid = os.getpid()

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for the duration of the block; one that raised is closed, not reused."""
        if self._pid != os.getpid():
            # Forked: the parent's connections (and a lock another thread may have held) are not ours to use.
            self._reset()
        if self._closed:
            raise LedgerError(f"the ledger at {self._describe} is closed")
        if not self._slots.acquire(timeout=WAIT_SECONDS):
            raise LedgerError(f"no connection to the ledger at {self._describe} came free within {WAIT_SECONDS:.0f} s")
        try:
            conn = self._take()
            try:
                yield conn
            except BaseException:
                _close_quietly(conn)
                raise
            with self._lock:
                if self._closed:
                    _close_quietly(conn)
                else:
                    self._idle.append((conn, time.monotonic()))
        finally:
            self._slots.release()

    def _take(self) -> Any:
        while True:
            with self._lock:
                conn, since = self._idle.pop() if self._idle else (None, 0.0)
            if conn is None:
                return self._connect()
            check = self._check
            if check is None or time.monotonic() - since <= CHECK_AFTER_IDLE_SECONDS or check(conn):
                return conn
            _close_quietly(conn)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _ in idle:
            _close_quietly(conn)


def _close_quietly(conn: Any) -> None:
    try:
        conn.close()
    except Exception:  # noqa: BLE001 - closing a broken connection must not hide the original error
        pass
