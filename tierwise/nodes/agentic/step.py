"""step (flash): one turn of the tool loop — the model either calls tools or answers. The loop stops after
`max_rounds` rounds of tool calls, with a failure rather than a made-up answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from tierwise.prompts import render

from ..base import StageCall, stage_node


def make(tools: Sequence[Any], max_rounds: int):
    tools = tuple(tools)

    def prepare(state, context):
        (_, system), (_, user) = render("agent_step", input=state["input"])
        history = state.get("messages") or [HumanMessage(user)]
        return StageCall("agent_step", [SystemMessage(system), *history], tools=tools)

    def finish(state, result, context):
        new = [] if state.get("messages") else [HumanMessage(state["input"])]
        message = result.value
        if message is None:
            return {"messages": new, "failure": _failure("unusable", "the tool loop's model gave no usable answer")}
        if not message.tool_calls:
            return {"messages": [*new, message], "answer": message.text.strip()}
        if state.get("tool_rounds", 0) >= max_rounds:
            return {"messages": [*new, message],
                    "failure": _failure("max_rounds", f"no answer after {max_rounds} rounds of tool calls")}
        return {"messages": [*new, message]}

    return stage_node("step", prepare, finish)


def _failure(kind: str, message: str) -> dict[str, str]:
    return {"stage": "agent_step", "kind": kind, "message": message}
