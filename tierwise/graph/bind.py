"""A compiled graph carries its Runtime in its own config, as it carries its checkpointer: every node's model
calls then use that runtime's registry, endpoint, hooks and ledger. The key starts with "__", so LangChain never
copies it into trace metadata and LangGraph never stores it in a checkpoint."""

from __future__ import annotations

from typing import Any, TypeVar

from langgraph.graph.state import CompiledStateGraph

import tierwise.runtime  # noqa: F401 - registers the convenience default that an unbound graph's calls use
from tierwise.calls.runtime import CONFIG_KEY, CallRuntime
from tierwise.errors import InvalidArgumentError

G = TypeVar("G", bound=CompiledStateGraph[Any, Any, Any, Any])


def bind_runtime(graph: G, runtime: CallRuntime | None) -> G:
    """`graph` with `runtime` bound (None: calls find the convenience default when they run)."""
    if runtime is None:
        return graph
    if not isinstance(runtime, CallRuntime):
        raise InvalidArgumentError(f"runtime must be a tierwise.Runtime, got {type(runtime).__name__}")
    return graph.with_config(configurable={CONFIG_KEY: runtime})
