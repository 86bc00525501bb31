"""Graph state and the records nodes exchange."""

from .records import (
    CONFIDENCE_VALUE,
    CallRecord,
    Draft,
    Extraction,
    Score,
    Triage,
    TriageResult,
)
from .state import InputState, OutputState, State

__all__ = [
    "CONFIDENCE_VALUE",
    "CallRecord",
    "Draft",
    "Extraction",
    "InputState",
    "OutputState",
    "Score",
    "State",
    "Triage",
    "TriageResult",
]
