"""Branches taken by the deciding node itself: `routed(node, decide)` runs the node, applies `decide` to the state
with the node's update, and returns `Command(update=..., goto=...)`; `targets(decide)` lists where it may go
(from its `Literal` return type), for `add_node(..., destinations=...)` so Studio draws the edges.

Gap: a conditional edge costs LangGraph a state read and a traced path run per decision (measured: ~0.1 ms each,
which took tierwise from 1.5x to 1.7x bare LangGraph's overhead on a three-call request), while a Command
returned by the node costs nothing extra. The decision functions live in each graph's module, beside its wiring,
so every branch is still visible where the graph is built.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args, get_origin, get_type_hints

from langchain_core.runnables import Runnable
from langgraph.types import Command

from tierwise.nodes.base import node_runnable

Decide = Callable[[Any], Any]


def routed(node: Any, decide: Decide) -> Runnable[Any, Any]:
    """`node` (a tierwise node, or a plain function of the state) followed by `decide`, as one node."""
    run: Callable[[Any], Mapping[str, Any]] = getattr(node, "func", None) or node
    arun = getattr(node, "afunc", None)

    def run_routed(state: Any) -> Command[Any]:
        update = run(state)
        return Command(update=update, goto=decide({**state, **update}))

    async def arun_routed(state: Any) -> Command[Any]:
        # A plain function may do file or socket work: off the event loop, as LangGraph runs sync nodes.
        update = await arun(state) if arun is not None else await asyncio.to_thread(run, state)
        return Command(update=update, goto=decide({**state, **update}))

    name = str(getattr(node, "name", None) or getattr(run, "__name__", "node"))
    return node_runnable(run_routed, arun_routed, name=name)


def targets(decide: Decide) -> tuple[str, ...]:
    """The node names `decide` may return, read from its `Literal[...]` return annotation."""
    returned = get_type_hints(decide).get("return")
    if get_origin(returned) is not Literal:
        raise TypeError(f"{decide.__name__} must be annotated to return Literal[...] node names")
    return tuple(str(name) for name in get_args(returned))
