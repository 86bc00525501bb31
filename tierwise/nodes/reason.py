"""reason (pro, critical): reasons over the extracted JSON when there is some, else over the request."""

import json
from collections.abc import Mapping
from typing import Any

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state import State

from .base import StageCall, stage_node
from .declare import Stage

TASK_PREVIEW_CHARS = 300


def _messages(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    extracted = state.get("extracted")
    if extracted:
        # Pro reads the compact, checked facts instead of the raw (possibly long) text.
        task = extracted.get("task") or state["input"].strip()[:TASK_PREVIEW_CHARS]
        facts = {k: v for k, v in extracted.items() if k != "task"}
        return render("reason_extracted", task=task, extracted=json.dumps(facts, ensure_ascii=False, indent=1))
    return render("reason", input=state["input"])


STAGE = Stage("reason", prompt="reason", reads=("input", "extracted"), render=_messages)


def prepare(state: State, context: Context) -> StageCall:
    return STAGE.call(state)


def finish(state: State, result: StageResult, context: Context) -> State:
    return {"reasoned": result.value or ""}


node = stage_node("reason", prepare, finish)
