"""Where each deciding node goes next. Nodes record their decisions in state (route, escalated); these functions
only read them. triage, draft and judge call them to route themselves with `Command(goto=...)` — the graph's
conditional edges — and other graphs or tests can use them as plain conditional-edge functions too.
"""

from typing import Literal

from typing_extensions import TypedDict


class RouteView(TypedDict, total=False):
    route: str
    escalated: bool


def after_triage(state: RouteView) -> Literal["draft", "extract", "reason"]:
    return {"extract": "extract", "complex": "reason"}.get(state.get("route", "simple"), "draft")


def after_draft(state: RouteView) -> Literal["judge", "polish"]:
    # Only a moderate request escalates on the draft's own confidence; everything else meets the judge.
    return "polish" if state.get("route") == "moderate" and state.get("escalated") else "judge"


def after_judge(state: RouteView) -> Literal["respond", "polish"]:
    return "polish" if state.get("escalated") else "respond"
