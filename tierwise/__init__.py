"""tierwise: route each stage of a Gemini pipeline to the tier it deserves, and price every call.

    from tierwise import build_graph, Context
    graph = build_graph()
    out = graph.invoke({"input": "Is this ticket urgent? My card was charged twice."}, context=Context())

Imports are lazy: `import tierwise` loads neither the Gemini client nor llama.cpp.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tierwise import defaults as _defaults
from tierwise._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "build_graph": "tierwise.graph.graph",
    "Context": "tierwise.context",
    "call_stage": "tierwise.calls",
    "acall_stage": "tierwise.calls",
    "run_stage": "tierwise.calls",
    "stage_node": "tierwise.nodes.base",
    "StageCall": "tierwise.nodes.base",
    "build_content_graph": "tierwise.graph.content",
    "build_research_graph": "tierwise.graph.research",
    "build_agentic_graph": "tierwise.graph.agentic",
    "StageResult": "tierwise.calls",
    "ModelCallError": "tierwise.calls",
    "CallRecord": "tierwise.state.records",
    "load_registry": "tierwise.tiers.registry",
    "build_registry": "tierwise.tiers.registry",
    "TierwiseError": "tierwise.errors",
    "InvalidInputError": "tierwise.errors",
    "InvalidArgumentError": "tierwise.errors",
    "OutputPathError": "tierwise.errors",
    "RegistryError": "tierwise.errors",
    "UnknownStageError": "tierwise.errors",
}

__all__ = sorted(_EXPORTS)

if TYPE_CHECKING:
    from tierwise.calls import ModelCallError, StageResult, acall_stage, call_stage, run_stage
    from tierwise.context import Context
    from tierwise.errors import (
        InvalidArgumentError,
        InvalidInputError,
        OutputPathError,
        RegistryError,
        TierwiseError,
        UnknownStageError,
    )
    from tierwise.graph.agentic import build_agentic_graph
    from tierwise.graph.content import build_content_graph
    from tierwise.graph.graph import build_graph
    from tierwise.graph.research import build_research_graph
    from tierwise.nodes.base import StageCall, stage_node
    from tierwise.state.records import CallRecord
    from tierwise.tiers.registry import build_registry, load_registry


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())

# The default call-path rules (ledger, shadow traffic, the offline emulator): plugged into tierwise.calls here, so
# that the calls package never imports them. Light: nothing heavy is imported until the first call.
_defaults.install()
