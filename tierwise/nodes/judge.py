"""judge (flash): scores the draft 1-10 with a one-line reason; below the threshold, Pro polishes it."""

from collections.abc import Mapping
from typing import Any

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state import Score, State

from .base import StageCall, draft_score_threshold, stage_node
from .declare import Stage


def _messages(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    return render("judge", input=state["input"], draft=state.get("draft") or "(empty)")


STAGE = Stage("judge", prompt="judge", reads=("input", "draft"), schema=Score, render=_messages)


def prepare(state: State, context: Context) -> StageCall:
    return STAGE.call(state)


def finish(state: State, result: StageResult, context: Context) -> State:
    verdict = result.value
    if verdict is None:
        # Unverified text must not reach readers as if it passed: escalate.
        return {"score": None, "score_reason": "judge output unusable", "escalated": True,
                "escalation_reason": "judge output unusable"}
    threshold = draft_score_threshold(context)
    update: State = {"score": verdict.score, "score_reason": verdict.reason.strip(), "escalated": False}
    if verdict.score < threshold:
        update |= {"escalated": True, "escalation_reason": f"judge score {verdict.score} < {threshold}"}
    return update


node = stage_node("judge", prepare, finish)
