"""claims (lite, structured): the key claims of one document. LangGraph runs one per document, in parallel
(the research graph's `fan_out` sends each its document); an unusable answer just contributes no claims."""

from __future__ import annotations

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.research import Claim, ClaimsTask, ExtractedClaims, ResearchState

from ..base import StageCall, stage_node
from .text import tidy

MAX_CLAIMS = 5
MAX_DOCUMENT_CHARS = 6000  # a long document is read from its start: keeps cheap calls cheap and small contexts fit
LABELS = ("input", "task_type", "request_id", "route", "labels")


def prepare(task: ClaimsTask, context: Context) -> StageCall:
    document = task["document"]
    messages = render("research_claims", input=task["input"], id=document.id, title=document.title,
                      text=document.text[:MAX_DOCUMENT_CHARS])
    return StageCall("research_claims", messages, ExtractedClaims)


def finish(task: ClaimsTask, result: StageResult, context: Context) -> ResearchState:
    found = tidy(result.value.claims if result.value else [], limit=MAX_CLAIMS, max_chars=500)
    return {"raw_claims": [Claim(text=text, sources=[task["document"].id]) for text in found]}


node = stage_node("claims", prepare, finish)
