"""Conditional edges. Nodes record their decisions in state; edges only read them."""

from typing import Literal


def after_triage(state: dict) -> Literal["draft", "extract", "reason"]:
    return {"extract": "extract", "complex": "reason"}.get(state.get("route", "simple"), "draft")


def after_draft(state: dict) -> Literal["judge", "polish"]:
    # Only a moderate request escalates on the draft's own confidence; everything else meets the judge.
    return "polish" if state.get("route") == "moderate" and state.get("escalated") else "judge"


def after_judge(state: dict) -> Literal["respond", "polish"]:
    return "polish" if state.get("escalated") else "respond"
