"""draft (lite, high temperature): variety is cheap here, because nobody reads this text as is."""

from tierwise.calls.messages import check_request
from tierwise.prompts import render

from ..base import StageCall, stage_node
from ..pipeline import begin


def prepare(state, context):
    return StageCall("content_draft", render("content_draft", input=check_request(state)))


def finish(state, result, context):
    return {"draft": (result.value or "").strip(), **begin(state, "content")}


node = stage_node("draft", prepare, finish)
