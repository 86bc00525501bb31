"""The serializer for tierwise state in LangGraph checkpoints and node caches.

The states carry pydantic records (CallRecord, TriageResult, ContentPlan, Document, Claim, Citation...).
LangGraph's msgpack serializer rebuilds them by import path only if they are on an allow-list; anything else
comes back as a plain dict (and a future LangGraph refuses it), so a resumed thread would crash on
`plan.title`. The list is derived, not written out: `state_types()` walks the annotations of every graph's
state, recursively, for pydantic models and dataclasses, so a new state type needs no edit here.

    from langgraph.checkpoint.postgres import PostgresSaver
    saver = PostgresSaver(conn, serde=serializer())
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import inspect
import typing
from collections.abc import Iterable
from typing import TYPE_CHECKING

from typing_extensions import is_typeddict

if TYPE_CHECKING:  # imported when a serializer is made
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

# The states of the four graphs and what one Send carries (research's claims task), as (module, name).
STATE_ROOTS = (
    ("tierwise.state.state", "State"),
    ("tierwise.state.content", "ContentState"),
    ("tierwise.state.research", "ResearchState"),
    ("tierwise.state.research", "ClaimsTask"),
    ("tierwise.state.agentic", "AgentState"),
)
# Modules whose pydantic models are the records nodes exchange (stage schemas like AgentRoute included).
RECORD_MODULES = ("tierwise.state.records", "tierwise.state.content", "tierwise.state.research",
                  "tierwise.state.agentic")


@functools.cache
def state_types() -> tuple[tuple[str, str], ...]:
    """(module, class) of every pydantic model and dataclass the graphs' states can hold, sorted."""
    from pydantic import BaseModel

    found: set[type] = set()
    seen: set[int] = set()

    def walk(hint: object) -> None:
        if id(hint) in seen:
            return
        seen.add(id(hint))
        if isinstance(hint, type) and is_typeddict(hint):
            for inner in typing.get_type_hints(hint, include_extras=True).values():
                walk(inner)
            return
        if isinstance(hint, type) and issubclass(hint, BaseModel):
            if _ours(hint):
                found.add(hint)
                for field in hint.model_fields.values():
                    walk(field.annotation)
            return
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            if _ours(hint):
                found.add(hint)
                for inner in typing.get_type_hints(hint, include_extras=True).values():
                    walk(inner)
            return
        for inner in typing.get_args(hint):  # Annotated, unions, list[...], dict[..., ...], Literal values
            walk(inner)

    for module, name in STATE_ROOTS:
        walk(getattr(importlib.import_module(module), name))
    for module in RECORD_MODULES:
        for _, cls in inspect.getmembers(importlib.import_module(module), inspect.isclass):
            if issubclass(cls, BaseModel) and cls.__module__ == module:
                walk(cls)
    return tuple(sorted((cls.__module__, cls.__qualname__) for cls in found))


def _ours(cls: type) -> bool:
    """Only tierwise's own types: LangChain's messages have their own (safe) path through the serializer."""
    return cls.__module__.split(".")[0] == "tierwise"


def serializer(extra: Iterable[tuple[str, str]] = ()) -> JsonPlusSerializer:
    """A JsonPlusSerializer that loads tierwise's state types (and `extra`: (module, class) pairs) and no others."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    return JsonPlusSerializer(allowed_msgpack_modules=[*state_types(), *extra])
