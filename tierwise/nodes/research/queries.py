"""queries (lite): a few keyword queries. If the output is unusable, the question itself is the query."""

from typing import Any

from tierwise.calls import StageResult
from tierwise.calls.messages import check_request
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.research import Queries, ResearchState

from ..base import StageCall, stage_node
from ..pipeline import begin
from .text import tidy

MAX_QUERIES = 3


def prepare(state: ResearchState, context: Context) -> StageCall:
    return StageCall("research_queries", render("research_queries", input=check_request(state)), Queries)


def finish(state: ResearchState, result: StageResult, context: Context) -> dict[str, Any]:
    queries = tidy(result.value.queries if result.value else [], limit=MAX_QUERIES, max_chars=200)
    return {"queries": queries or [" ".join(state["input"].split())[:500]], **begin(state, "research")}


node = stage_node("queries", prepare, finish)
