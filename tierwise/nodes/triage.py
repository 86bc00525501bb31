"""triage: decides the route. Strategy (registry `router.strategy`): `llm` asks the triage stage on Lite for
intent, complexity and confidence; `learned` asks the pre-router trained on outcome data (no API call);
`hybrid` uses the learned router when it is confident and the LLM otherwise. Unusable triage output takes the
cheap path, never Pro by default."""

from typing import Literal

from tierwise.calls import StageResult
from tierwise.calls.messages import check_request
from tierwise.context import Context
from tierwise.state import State, Triage, TriageResult

from .base import StageCall, registry, stage_node
from .declare import Stage

STAGE = Stage("triage", prompt="triage", reads=("input",), schema=Triage)

LEARNED_COMPLEXITY: dict[str, Literal[1, 3, 5]] = {"simple": 1, "moderate": 3, "complex": 5}


def prepare(state: State, context: Context) -> StageCall | State:
    text = check_request(state)  # a clear error before any model call
    reg = registry(context)
    settings = reg.data.router
    if settings.strategy != "llm":
        from tierwise.calls.runtime import current_runtime
        from tierwise.routing.runtime import RouterFiles, route_for

        routers = current_runtime().resource(RouterFiles, RouterFiles)
        decision = routers.router_at(reg.path(settings.model_path)).decide(text, settings.threshold)
        if settings.strategy == "learned" or decision.confidence >= settings.hybrid_confidence:
            route = route_for(decision)
            triage = TriageResult(intent="question", complexity=LEARNED_COMPLEXITY[route],
                                  confidence="high" if decision.confidence >= 0.75 else "medium", source="learned")
            return {"steps": ["triage"], "triage": triage, "route": route}
    return STAGE.call({"input": text})


def finish(state: State, result: StageResult, context: Context) -> State:
    rules = registry(context).data.routing
    triage = result.value
    if triage is None:
        # Never "default to Pro when unsure": that sends most traffic to Pro.
        fallback = TriageResult(intent="question", complexity=1, confidence="low", usable=False, source="fallback")
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
