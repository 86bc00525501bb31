"""triage: decides the route. Strategy (registry `router.strategy`): `llm` asks the triage stage on Lite for
intent, complexity and confidence; `learned` asks the pre-router trained on outcome data (no API call);
`hybrid` uses the learned router when it is confident and the LLM only in its uncertain band. Before the ladder, the
registry's intent cues (`[[router.intents]]`) say what kind of work a request is: a sure cue picks its route (extract,
moderate...), an unsure one puts the request in the band. No model_path: the packaged pre-router. Unusable triage
output takes the cheap path, never Pro by default."""

from typing import Any, Literal

from tierwise.calls import StageResult
from tierwise.calls.messages import check_request
from tierwise.context import Context
from tierwise.state import State, Triage, TriageResult
from tierwise.state.records import Intent

from .base import StageCall, registry, stage_node
from .declare import Stage

STAGE = Stage("triage", prompt="triage", reads=("input",), schema=Triage)

LEARNED_COMPLEXITY: dict[str, Literal[1, 3, 5]] = {"simple": 1, "moderate": 3, "complex": 5}


def _decide(text: str, context: Context) -> Any:
    """The pre-router's decision (registry model_path, else the packaged one): ~0.1 ms, no API call."""
    from tierwise.calls.runtime import current_runtime
    from tierwise.routing.packaged import packaged_path
    from tierwise.routing.runtime import RouterFiles

    reg = registry(context)
    settings = reg.data.router
    path = reg.path(settings.model_path) if settings.model_path else packaged_path()
    routers = current_runtime().resource(RouterFiles, RouterFiles)
    return routers.router_at(path).decide(text, settings.threshold)


def _focus(context: Context) -> bool:
    """Shadow sampling aims at uncertain requests: the LLM path asks the pre-router for its margin too."""
    shadow = registry(context).data.shadow
    return shadow.enabled and shadow.focus == "uncertain"


def prepare(state: State, context: Context) -> StageCall | State:
    text = check_request(state)  # a clear error before any model call
    settings = registry(context).data.router
    if settings.strategy != "llm":
        from tierwise.routing.runtime import route_for

        decision = _decide(text, context)
        ladder = route_for(decision)
        if settings.hybrid_confidence is not None:
            sure = decision.confidence >= settings.hybrid_confidence
        else:
            sure = settings.hybrid_margin is not None and decision.margin >= settings.hybrid_margin
        # The kind of work decides the route before the ladder does, as LLM triage's intent does.
        cue = next((c for c in settings.intents if c.sure_of(text)), None)
        route = cue.route if cue is not None else ladder
        intent: Intent = cue.intent if cue is not None else "question"
        if cue is None and any(c.unsure_of(text) for c in settings.intents):
            sure = False  # an intent the cues cannot tell: the uncertain band
        if settings.strategy == "learned" or sure or cue is not None:
            triage = TriageResult(intent=intent, complexity=LEARNED_COMPLEXITY[ladder],
                                  confidence="high" if cue or decision.confidence >= 0.75 else "medium",
                                  source="learned", margin=decision.margin)
            return {"steps": ["triage"], "triage": triage, "route": route}
    return STAGE.call({"input": text})


def finish(state: State, result: StageResult, context: Context) -> State:
    rules = registry(context).data.routing
    triage = result.value
    margin = _decide(check_request(state), context).margin if _focus(context) else None
    if triage is None:
        # Never "default to Pro when unsure": that sends most traffic to Pro.
        fallback = TriageResult(intent="question", complexity=1, confidence="low", usable=False, source="fallback",
                                margin=margin)
        return {"triage": fallback, "route": rules.on_unusable_triage}
    if triage.intent == "extraction":
        route = "extract"
    elif triage.complexity <= rules.simple_max_complexity:
        route = "simple"
    elif triage.complexity <= rules.moderate_max_complexity:
        route = "moderate"
    else:
        route = "complex"
    return {"triage": TriageResult(**triage.model_dump(), margin=margin), "route": route}



node = stage_node("triage", prepare, finish)
