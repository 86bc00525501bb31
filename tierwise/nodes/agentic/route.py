"""route (lite, enum-only): tool loop or one-shot analysis. Unusable output takes the tool loop on Flash, never
Pro by default: "when unsure, use Pro" sends most traffic to Pro."""

from typing import Any

from tierwise.calls import StageResult
from tierwise.calls.messages import check_request
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.agentic import AgentRoute, AgentState

from ..base import StageCall, stage_node
from ..pipeline import begin


def prepare(state: AgentState, context: Context) -> StageCall:
    return StageCall("agent_route", render("agent_route", input=check_request(state)), AgentRoute)


def finish(state: AgentState, result: StageResult, context: Context) -> dict[str, Any]:
    intent = result.value.intent if result.value is not None else "tool_loop"
    return {"intent": intent, **begin(state, intent)}


node = stage_node("route", prepare, finish)
