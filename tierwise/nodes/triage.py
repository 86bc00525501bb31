"""triage (lite): intent, complexity and confidence decide the route. Unusable output → the cheap path."""

from tierwise.calls.messages import check_text
from tierwise.prompts import render
from tierwise.state import Triage, TriageResult

from .base import StageCall, registry, stage_node


def prepare(state, context):
    text = check_text(state.get("input"))  # a clear error before any model call
    return StageCall("triage", render("triage", input=text), Triage)


def finish(state, result, context):
    rules = registry(context).data.routing
    triage = result.value
    if triage is None:
        # Never "default to Pro when unsure": that sends most traffic to Pro.
        fallback = TriageResult(intent="question", complexity=1, confidence="low", usable=False)
        return {"triage": fallback, "route": rules.on_unusable_triage}
    if triage.intent == "extraction":
        route = "extract"
    elif triage.complexity <= rules.simple_max_complexity:
        route = "simple"
    elif triage.complexity <= rules.moderate_max_complexity:
        route = "moderate"
    else:
        route = "complex"
    return {"triage": TriageResult(**triage.model_dump()), "route": route}


node = stage_node("triage", prepare, finish)
