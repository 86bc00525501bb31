"""format (flash, temperature 0, JSON): classify, tag and choose the format. Judgement, not prose: no Pro."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.content import ContentPlan, ContentState

from ..base import StageCall, stage_node


def prepare(state: ContentState, context: Context) -> StageCall | ContentState:
    if not state.get("draft"):
        return {"steps": ["format"], "plan": None}  # nothing to classify: finalize writes from the brief
    return StageCall("content_format", render("content_format", input=state["input"], draft=state["draft"]),
                     ContentPlan)


def finish(state: ContentState, result: StageResult, context: Context) -> ContentState:
    return {"plan": result.value}  # None when unusable: finalize then chooses title and format itself


node = stage_node("format", prepare, finish)
