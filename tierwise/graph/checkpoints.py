"""Checkpoints in PostgreSQL, for many workers sharing one database (needs `tierwise[postgres]`).

    from tierwise import build_graph
    from tierwise.graph.checkpoints import postgres_checkpointer

    with postgres_checkpointer("postgresql://user@db:5432/tierwise") as saver:
        graph = build_graph(checkpointer=saver)
        graph.invoke({"input": "..."}, config={"configurable": {"thread_id": "ticket-42"}})

Any worker can then read or continue any thread. What this adds to LangGraph's PostgresSaver: the connection
settings it requires (autocommit, dict rows, no prepared statements behind a pooler), tierwise's state types
on the serializer's allow-list, and table creation that many workers may start at once (one at a time, under
an advisory lock: concurrent migrations deadlock or fail against each other).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from .serde import serializer

SETUP_LOCK = 7317842392  # not the ledger schema lock (7317842391): the two never wait on each other


@contextmanager
def postgres_checkpointer(url: str, *, setup: bool = True) -> Iterator[Any]:
    """A PostgresSaver on its own connection, closed on exit; its tables are created first unless `setup=False`."""
    try:
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row
    except ImportError:
        from tierwise.errors import BackendUnavailableError

        raise BackendUnavailableError(
            "PostgreSQL checkpoints need langgraph-checkpoint-postgres and psycopg: pip install 'tierwise[postgres]'"
        ) from None
    with psycopg.connect(url, autocommit=True, prepare_threshold=0, row_factory=dict_row) as conn:
        saver = PostgresSaver(conn, serde=serializer())
        if setup:
            _setup_once(conn, saver)
        yield saver


def _setup_once(conn: Any, saver: Any) -> None:
    """One process at a time runs the migrations. The others poll for the lock rather than wait in a statement:
    a migration builds an index CONCURRENTLY, which waits for every open transaction, a waiting lock included."""
    while not conn.execute("SELECT pg_try_advisory_lock(%s) AS got", (SETUP_LOCK,)).fetchone()["got"]:
        time.sleep(0.05)
    try:
        saver.setup()
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (SETUP_LOCK,))
