"""finalize (pro, critical): the text people read. Never downgraded; if it fails, there is no answer."""

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.content import ContentPlan, ContentState

from ..base import StageCall, stage_node


def describe(plan: ContentPlan | None) -> str:
    if plan is None:
        return "(none: choose a title, format and tone that fit the brief)"
    return (f"title: {plan.title}\nformat: {plan.format}\ncategory: {plan.category}\ntone: {plan.tone}\n"
            f"tags: {', '.join(plan.tags)}")


def prepare(state: ContentState, context: Context) -> StageCall:
    messages = render("content_finalize", input=state["input"], plan=describe(state.get("plan")),
                      draft=state.get("draft") or "(no draft: write from the brief)")
    return StageCall("content_finalize", messages)


def finish(state: ContentState, result: StageResult, context: Context) -> ContentState:
    return {"answer": (result.value or "").strip()}


node = stage_node("finalize", prepare, finish)
