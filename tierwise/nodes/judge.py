"""judge (flash): scores the draft 1-10 with a one-line reason; below the threshold, Pro polishes it."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state import Score, State

from .base import StageCall, draft_score_threshold, stage_node


def prepare(state: State, context: Context) -> StageCall:
    return StageCall("judge", render("judge", input=state["input"], draft=state.get("draft") or "(empty)"), Score)


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
