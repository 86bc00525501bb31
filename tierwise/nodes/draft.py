"""draft (lite): a first answer with the model's own confidence; a moderate request below the threshold
escalates straight to Pro."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.state import CONFIDENCE_VALUE, Draft, State

from .base import StageCall, confidence_threshold, stage_node
from .declare import Stage

STAGE = Stage("draft", prompt="draft", reads=("input",), schema=Draft)


def prepare(state: State, context: Context) -> StageCall:
    return STAGE.call(state)


def finish(state: State, result: StageResult, context: Context) -> State:
    draft = result.value
    if draft is None or not draft.answer.strip():
        return {"draft": "", "draft_confidence": 0.0, **_escalate(state, "draft output unusable")}
    confidence = CONFIDENCE_VALUE[draft.confidence]
    update: State = {"draft": draft.answer.strip(), "draft_confidence": confidence}
    threshold = confidence_threshold(context)
    if state.get("route") == "moderate" and confidence < threshold:
        update |= _escalate(state, f"draft confidence {confidence} < {threshold}")
    return update


def _escalate(state: State, reason: str) -> State:
    # A simple request still goes to the judge, which decides; a moderate one goes straight to Pro.
    if state.get("route") == "moderate":
        return {"escalated": True, "escalation_reason": reason}
    return {}


node = stage_node("draft", prepare, finish)
