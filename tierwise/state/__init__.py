"""Graph state and the records nodes exchange: what each graph's output holds, and its parts' types."""

from .agentic import AgentOutput, AgentRoute, AgentState
from .content import ContentOutput, ContentPlan, ContentState
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
from .research import Citation, Claim, Document, ExtractedClaims, Queries, ResearchOutput, ResearchState
from .state import InputState, OutputState, State

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
