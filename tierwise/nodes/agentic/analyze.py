"""analyze (pro, critical): a one-shot analytical answer, people read it as is."""

from tierwise.prompts import render

from ..base import StageCall, stage_node


def prepare(state, context):
    return StageCall("analyze", render("analyze", input=state["input"]))


def finish(state, result, context):
    return {"answer": (result.value or "").strip()}


node = stage_node("analyze", prepare, finish)
