"""draft (lite, high temperature): variety is cheap here, because nobody reads this text as is."""

from typing import Any

from tierwise.calls import StageResult
from tierwise.calls.messages import check_request
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.content import ContentState

from ..base import StageCall, stage_node
from ..pipeline import begin


def prepare(state: ContentState, context: Context) -> StageCall:
    return StageCall("content_draft", render("content_draft", input=check_request(state)))


def finish(state: ContentState, result: StageResult, context: Context) -> dict[str, Any]:
    return {"draft": (result.value or "").strip(), **begin(state, "content")}


node = stage_node("draft", prepare, finish)
