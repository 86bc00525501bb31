"""reason (pro, critical): reasons over the extracted JSON when there is some, else over the request."""

import json

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state import State

from .base import StageCall, stage_node

TASK_PREVIEW_CHARS = 300


def prepare(state: State, context: Context) -> StageCall:
    extracted = state.get("extracted")
    if extracted:
        # Pro reads the compact, checked facts instead of the raw (possibly long) text.
        task = extracted.get("task") or state["input"].strip()[:TASK_PREVIEW_CHARS]
        facts = {k: v for k, v in extracted.items() if k != "task"}
        messages = render("reason_extracted", task=task, extracted=json.dumps(facts, ensure_ascii=False, indent=1))
    else:
        messages = render("reason", input=state["input"])
    return StageCall("reason", messages)


def finish(state: State, result: StageResult, context: Context) -> State:
    return {"reasoned": result.value or ""}


node = stage_node("reason", prepare, finish)
