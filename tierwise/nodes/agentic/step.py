"""step (flash): one turn of the tool loop — the model either calls tools or answers. The loop stops after
`max_rounds` rounds of tool calls, with a failure rather than a made-up answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langchain_core.runnables import Runnable

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.prompts import render
from tierwise.state.agentic import AgentState

from ..base import StageCall, Update, stage_node


def make(tools: Sequence[Any], max_rounds: int) -> Runnable[AgentState, Update]:
    bound = tuple(tools)

    def prepare(state: AgentState, context: Context) -> StageCall:
        (_, system), (_, user) = render("agent_step", input=state["input"])
        history = state.get("messages") or [HumanMessage(user)]
        return StageCall("agent_step", [SystemMessage(system), *history], tools=bound)

    def finish(state: AgentState, result: StageResult, context: Context) -> AgentState:
        new: list[AnyMessage] = [] if state.get("messages") else [HumanMessage(state["input"])]
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
