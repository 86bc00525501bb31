"""synthesize (pro, critical): answers over the deduplicated claims, not the raw documents, citing document ids;
citations are checked against the documents the claims came from. No claims: no Pro call."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.research import Citation, ResearchState

from ..base import StageCall, stage_node
from . import citations

NOTHING_FOUND = "The documents searched say nothing that answers this question."


def prepare(state: ResearchState, context: Context) -> StageCall | ResearchState:
    claims = state.get("claims") or []
    if not claims:
        return {"steps": ["synthesize"], "answer": NOTHING_FOUND, "citations": [], "unknown_citations": []}
    lines = "\n".join(f"- {claim.text} [{', '.join(claim.sources)}]" for claim in claims)
    return StageCall("research_synthesize", render("research_synthesize", input=state["input"], claims=lines))


def finish(state: ResearchState, result: StageResult, context: Context) -> ResearchState:
    shown = {source for claim in state.get("claims") or [] for source in claim.sources}
    answer, cited, unknown = citations.check(result.value or "", shown)
    documents = {document.id: document for document in state.get("documents", [])}
    found = [Citation(id=i, title=documents[i].title, source=documents[i].source) for i in cited]
    return {"answer": answer, "citations": found, "unknown_citations": unknown}


node = stage_node("synthesize", prepare, finish)
