"""polish (pro, critical): rewrites a weak or unsure draft into the final answer."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state import State

from .base import StageCall, stage_node


def prepare(state: State, context: Context) -> StageCall:
    note = state.get("score_reason") or state.get("escalation_reason") or "the draft may be wrong"
    messages = render("polish", input=state["input"], draft=state.get("draft") or "(no draft)", note=note)
    return StageCall("polish", messages)


def finish(state: State, result: StageResult, context: Context) -> State:
    return {"polished": result.value or ""}


node = stage_node("polish", prepare, finish)
