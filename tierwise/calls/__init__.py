"""The one call path: every model call in tierwise (and in users' own graphs) goes through here."""

from .path import ModelCallError, StageResult, acall_stage, call_stage, current_context, run_stage

__all__ = ["ModelCallError", "StageResult", "acall_stage", "call_stage", "current_context", "run_stage"]
