"""plan (stage `content_plan`, formerly `content_format`; flash, temperature 0, JSON): the published text's title,
category, tags, format and tone, kept in state["plan"]. Judgement, not prose: no Pro."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.content import ContentPlan, ContentState

from ..base import StageCall, stage_node


def prepare(state: ContentState, context: Context) -> StageCall | ContentState:
    if not state.get("draft"):
        return {"steps": ["plan"], "plan": None}  # nothing to classify: finalize writes from the brief
    return StageCall("content_plan", render("content_plan", input=state["input"], draft=state["draft"]),
                     ContentPlan)


def finish(state: ContentState, result: StageResult, context: Context) -> ContentState:
    return {"plan": result.value}  # None when unusable: finalize then chooses title and format itself


node = stage_node("plan", prepare, finish)
