"""The one call path: every model call in tierwise (and in users' own graphs) goes through here.

`tierwise.calls` imports nothing from ledger/, evals/, emulator/, batch/, graph/, nodes/ or routing/: those plug
in as hooks (`tierwise.calls.hooks`) and an emulator launcher, installed by `tierwise.defaults`. The names below
are its public interface; its other modules are the sans-IO core and wiring the rest of tierwise builds on.
Imports are lazy: `import tierwise.calls.hooks` loads neither the registry nor the Gemini client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "acall_stage": ".api",
    "call_stage": ".api",
    "current_context": ".api",
    "run_stage": ".api",
    "CallHook": ".hooks",
    "ExplicitCaches": ".explicit_caches",
    "caching": ".explicit_caches",
    "Attempts": ".plan",
    "CallPlan": ".plan",
    "ModelCallError": "tierwise.errors",
    "StageResult": ".result",
}
__all__ = ["Attempts", "CallHook", "CallPlan", "ExplicitCaches", "ModelCallError", "StageResult", "acall_stage",
           "call_stage", "caching", "current_context", "run_stage"]

if TYPE_CHECKING:
    from tierwise.errors import ModelCallError

    from .api import acall_stage, call_stage, current_context, run_stage
    from .explicit_caches import ExplicitCaches, caching
    from .hooks import CallHook
    from .plan import Attempts, CallPlan
    from .result import StageResult

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
