"""Graph state and the records nodes exchange: what each graph's output holds, and its parts' types.

The records and the main pipeline's state load at once (the call path needs them); the other graphs' state types
load on first use, so the call path does not bring in LangGraph's message reducers.
"""

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

from .records import (
    CONFIDENCE_VALUE,
    CallRecord,
    Draft,
    ExtractedField,
    Extraction,
    Score,
    Triage,
    TriageResult,
)
from .state import InputState, OutputState, State

_EXPORTS = {
    **dict.fromkeys(("AgentOutput", "AgentRoute", "AgentState"), ".agentic"),
    **dict.fromkeys(("ContentOutput", "ContentPlan", "ContentState"), ".content"),
    **dict.fromkeys(("Citation", "Claim", "Document", "ExtractedClaims", "Queries", "ResearchOutput",
                     "ResearchState"), ".research"),
}

__all__ = [
    "CONFIDENCE_VALUE",
    "AgentOutput",
    "AgentRoute",
    "AgentState",
    "CallRecord",
    "Citation",
    "Claim",
    "ContentOutput",
    "ContentPlan",
    "ContentState",
    "Document",
    "Draft",
    "ExtractedClaims",
    "ExtractedField",
    "Extraction",
    "InputState",
    "OutputState",
    "Queries",
    "ResearchOutput",
    "ResearchState",
    "Score",
    "State",
    "Triage",
    "TriageResult",
]

if TYPE_CHECKING:
    from .agentic import AgentOutput, AgentRoute, AgentState
    from .content import ContentOutput, ContentPlan, ContentState
    from .research import Citation, Claim, Document, ExtractedClaims, Queries, ResearchOutput, ResearchState

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
