"""route (lite, enum-only): tool loop or one-shot analysis. Unusable output takes the tool loop on Flash, never
Pro by default: "when unsure, use Pro" sends most traffic to Pro."""


from tierwise.calls.messages import check_request
from tierwise.prompts import render
from tierwise.state.agentic import AgentRoute

from ..base import StageCall, stage_node
from ..pipeline import begin


def prepare(state, context):
    return StageCall("agent_route", render("agent_route", input=check_request(state)), AgentRoute)


def finish(state, result, context):
    intent = result.value.intent if result.value is not None else "tool_loop"
    return {"intent": intent, **begin(state, intent)}


node = stage_node("route", prepare, finish)
