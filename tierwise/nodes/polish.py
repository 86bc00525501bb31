"""polish (pro, critical): rewrites a weak or unsure draft into the final answer."""

from collections.abc import Mapping
from typing import Any

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state import State

from .base import StageCall, stage_node
from .declare import Stage


def _messages(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    note = state.get("score_reason") or state.get("escalation_reason") or "the draft may be wrong"
    return render("polish", input=state["input"], draft=state.get("draft") or "(no draft)", note=note)


STAGE = Stage("polish", prompt="polish", reads=("input", "draft", "score_reason", "escalation_reason"),
              render=_messages)


def prepare(state: State, context: Context) -> StageCall:
    return STAGE.call(state)


def finish(state: State, result: StageResult, context: Context) -> State:
    return {"polished": result.value or ""}


node = stage_node("polish", prepare, finish)
