"""The serializer for tierwise state in LangGraph checkpoints and node caches.

The state carries pydantic records (CallRecord, TriageResult). LangGraph's msgpack serializer rebuilds them by
import path and warns about every type not on an allow-list (a future LangGraph blocks them): this names ours,
so checkpointers and caches load them silently and load nothing else.

    from langgraph.checkpoint.postgres import PostgresSaver
    saver = PostgresSaver(conn, serde=serializer())
"""

from __future__ import annotations

from collections.abc import Iterable

STATE_TYPES = (
    ("tierwise.state.records", "CallRecord"),
    ("tierwise.state.records", "TriageResult"),
    ("tierwise.state.records", "Triage"),
    ("tierwise.state.records", "Draft"),
    ("tierwise.state.records", "Score"),
    ("tierwise.state.records", "Extraction"),
    ("tierwise.state.records", "ExtractedField"),
)


def serializer(extra: Iterable[tuple[str, str]] = ()):
    """A JsonPlusSerializer that loads tierwise's state types (and `extra`: (module, class) pairs) and no others."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=[*STATE_TYPES, *extra])
