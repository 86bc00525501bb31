"""queries (lite): a few keyword queries. If the output is unusable, the question itself is the query."""

from tierwise.calls.messages import check_request
from tierwise.prompts import render
from tierwise.state.research import Queries

from ..base import StageCall, stage_node
from ..pipeline import begin
from .text import tidy

MAX_QUERIES = 3


def prepare(state, context):
    return StageCall("research_queries", render("research_queries", input=check_request(state)), Queries)


def finish(state, result, context):
    queries = tidy(result.value.queries if result.value else [], limit=MAX_QUERIES, max_chars=200)
    return {"queries": queries or [" ".join(state["input"].split())[:500]], **begin(state, "research")}


node = stage_node("queries", prepare, finish)
