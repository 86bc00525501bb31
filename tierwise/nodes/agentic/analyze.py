"""analyze (pro, critical): a one-shot analytical answer, people read it as is."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.agentic import AgentState

from ..base import StageCall, stage_node


def prepare(state: AgentState, context: Context) -> StageCall:
    return StageCall("analyze", render("analyze", input=state["input"]))


def finish(state: AgentState, result: StageResult, context: Context) -> AgentState:
    return {"answer": (result.value or "").strip()}


node = stage_node("analyze", prepare, finish)
