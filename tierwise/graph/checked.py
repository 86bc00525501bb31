"""Compiled graphs that refuse an input key their input schema lacks, as a batch line does.

LangGraph drops keys a graph's input schema does not declare before any node runs, so `{"input": ..., "task_typ":
...}` would run without its label, silently. Every tierwise graph builder compiles through `checked`, whose class
checks the input at the one door every entry point goes through (invoke, batch and their async forms call stream
or astream), before any model call. A resume (`None`) and LangGraph `Command`s pass as they are.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any, cast, get_type_hints

from langgraph.graph.state import CompiledStateGraph

from tierwise.errors import InvalidInputError


def allowed_keys(schema: Any) -> tuple[str, ...]:
    try:
        return tuple(get_type_hints(schema))
    except Exception:  # noqa: BLE001 - an unusual schema: fall back to its own annotations
        return tuple(getattr(schema, "__annotations__", {}))


def check_input(value: Any, allowed: tuple[str, ...]) -> None:
    """Refuse a graph input that is not a dict of the input schema's keys (named, with a close match)."""
    from langgraph.types import Command

    if value is None or isinstance(value, Command):
        return
    if not isinstance(value, Mapping):
        raise InvalidInputError(f'the graph\'s input is a dict like {{"input": "your request"}}, got '
                                f"{type(value).__name__}")
    unknown = [key for key in value if key not in allowed]
    if "input" in allowed and "input" not in value:
        got = f" (it has {', '.join(map(repr, unknown))})" if unknown else ""
        raise InvalidInputError(f'the request has no "input" key{got}: send {{"input": "your request text"}}')
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidInputError(f"unknown input key {unknown[0]!r}; {hint}allowed: {', '.join(allowed)}")


class CheckedGraph(CompiledStateGraph[Any, Any, Any, Any]):
    """A CompiledStateGraph whose input is checked against its input schema (see the module docstring).

    `input_keys` is worked out once per graph (resolving the schema's type hints costs ~0.1 ms, every request);
    LangGraph's copies (`with_config`...) pass it on through `__init__` with the rest of the graph's attributes."""

    input_keys: tuple[str, ...]

    def __init__(self, *args: Any, input_keys: tuple[str, ...] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.input_keys = input_keys if input_keys is not None else allowed_keys(self.builder.input_schema)

    def stream(self, input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - LangGraph's name
        check_input(input, self.input_keys)
        return super().stream(input, *args, **kwargs)

    def astream(self, input: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: A002 - LangGraph's name
        check_input(input, self.input_keys)
        return super().astream(input, *args, **kwargs)


def checked(graph: CompiledStateGraph[Any, Any, Any, Any]) -> Any:
    """`graph` with its input checked (the same object: LangGraph's copies keep the class)."""
    if type(graph) is CompiledStateGraph:
        graph.__class__ = CheckedGraph
        cast(CheckedGraph, graph).input_keys = allowed_keys(graph.builder.input_schema)
    return graph
