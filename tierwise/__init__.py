"""tierwise: route each stage of a Gemini pipeline to the tier it deserves, and price every call.

    import tierwise
    with tierwise.Runtime() as rt:            # the registry, ledger, hooks and endpoint calls use
        graph = tierwise.build_graph(runtime=rt)
        out = graph.invoke({"input": "Is this ticket urgent? My card was charged twice."})

Imports are lazy: `import tierwise` loads neither the Gemini client nor llama.cpp, and does nothing observable —
no hook installed, no thread, no file, no environment variable read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierwise._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "Runtime": "tierwise.runtime",
    "default_runtime": "tierwise.runtime",
    "CallHook": "tierwise.calls.hooks",
    "build_graph": "tierwise.graph.graph",
    "bind_runtime": "tierwise.graph.bind",
    "Context": "tierwise.context",
    "call_stage": "tierwise.calls",
    "acall_stage": "tierwise.calls",
    "run_stage": "tierwise.calls",
    "stage_node": "tierwise.nodes.base",
    "Stage": "tierwise.nodes.declare",
    "StageCall": "tierwise.nodes.base",
    "build_content_graph": "tierwise.graph.content",
    "build_research_graph": "tierwise.graph.research",
    "build_agentic_graph": "tierwise.graph.agentic",
    "StageResult": "tierwise.calls",
    "ModelCallError": "tierwise.errors",
    "CallRecord": "tierwise.state.records",
    "load_registry": "tierwise.tiers.registry",
    "build_registry": "tierwise.tiers.registry",
    "TierwiseError": "tierwise.errors",
    "InvalidInputError": "tierwise.errors",
    "InvalidArgumentError": "tierwise.errors",
    "OutputPathError": "tierwise.errors",
    "RegistryError": "tierwise.errors",
    "UnknownStageError": "tierwise.errors",
    "BackendUnavailableError": "tierwise.errors",
    "BudgetExceededError": "tierwise.errors",
    "LedgerError": "tierwise.errors",
    "LedgerSchemaError": "tierwise.errors",
    "LocalBackendUnavailable": "tierwise.errors",
    "InputFileError": "tierwise.errors",
    "OutputLockedError": "tierwise.errors",
    "ConfigurationError": "tierwise.errors",
    "RegistryFileError": "tierwise.errors",
    "EvalError": "tierwise.errors",
    "OutcomeError": "tierwise.errors",
    "BatchInputError": "tierwise.errors",
    "BatchOutputError": "tierwise.errors",
    "FaultSpecError": "tierwise.errors",
    "EmulatorRuleError": "tierwise.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from tierwise.calls import StageResult, acall_stage, call_stage, run_stage
    from tierwise.calls.hooks import CallHook
    from tierwise.context import Context
    from tierwise.errors import (
        BackendUnavailableError,
        BatchInputError,
        BatchOutputError,
        BudgetExceededError,
        ConfigurationError,
        EmulatorRuleError,
        EvalError,
        FaultSpecError,
        InputFileError,
        InvalidArgumentError,
        InvalidInputError,
        LedgerError,
        LedgerSchemaError,
        LocalBackendUnavailable,
        ModelCallError,
        OutcomeError,
        OutputLockedError,
        OutputPathError,
        RegistryError,
        RegistryFileError,
        TierwiseError,
        UnknownStageError,
    )
    from tierwise.graph.agentic import build_agentic_graph
    from tierwise.graph.bind import bind_runtime
    from tierwise.graph.content import build_content_graph
    from tierwise.graph.graph import build_graph
    from tierwise.graph.research import build_research_graph
    from tierwise.nodes.base import StageCall, stage_node
    from tierwise.nodes.declare import Stage
    from tierwise.runtime import Runtime, default_runtime
    from tierwise.state.records import CallRecord
    from tierwise.tiers.registry import build_registry, load_registry


_lookup = lazy_exports(__name__, _EXPORTS, globals())


def __getattr__(name: str) -> Any:
    """Exports on first use. Any of them brings in tierwise.runtime first, so that calls made without an explicit
    runtime find the convenience default (built only when such a call happens)."""
    if name in _EXPORTS:
        import tierwise.runtime  # noqa: F401
    return _lookup(name)
