"""tools (no model call): runs the tool calls of the last step. A tool's error goes back to the model as the
tool's answer, as LangGraph's ToolNode does, so the loop can recover instead of crashing the request."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.messages import AIMessage, AnyMessage, ToolCall, ToolMessage
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool

from tierwise.state.agentic import AgentState

from ..base import Update, node_runnable


def make(tools: Sequence[BaseTool]) -> Runnable[AgentState, Update]:
    by_name = {tool.name: tool for tool in tools}

    def run(state: AgentState) -> AgentState:
        return _update(state, [_run_one(by_name, call) for call in _tool_calls(state)])

    async def arun(state: AgentState) -> AgentState:
        return _update(state, list(await asyncio.gather(*(_arun_one(by_name, call) for call in _tool_calls(state)))))

    return node_runnable(run, arun, name="tools")


def _tool_calls(state: AgentState) -> list[ToolCall]:
    """The calls the loop's last step asked for (the graph routes here only when there are some)."""
    last = state["messages"][-1]
    return last.tool_calls if isinstance(last, AIMessage) else []


def _update(state: AgentState, results: list[AnyMessage]) -> AgentState:
    return {"steps": ["tools"], "messages": results, "tool_rounds": state.get("tool_rounds", 0) + 1}


def _run_one(by_name: Mapping[str, BaseTool], call: ToolCall) -> ToolMessage:
    tool = by_name.get(call["name"])
    if tool is None:
        return _error(call, f"unknown tool {call['name']!r}; available: {', '.join(by_name)}")
    try:
        return _message(call, tool.invoke(call["args"]))
    except Exception as exc:  # noqa: BLE001 - the model reads the error and may try again
        return _error(call, f"{type(exc).__name__}: {exc}")


async def _arun_one(by_name: Mapping[str, BaseTool], call: ToolCall) -> ToolMessage:
    tool = by_name.get(call["name"])
    if tool is None:
        return _error(call, f"unknown tool {call['name']!r}; available: {', '.join(by_name)}")
    try:
        return _message(call, await tool.ainvoke(call["args"]))
    except Exception as exc:  # noqa: BLE001
        return _error(call, f"{type(exc).__name__}: {exc}")


def _message(call: ToolCall, output: Any) -> ToolMessage:
    return ToolMessage(str(output) or "(no output)", tool_call_id=call["id"], name=call["name"])


def _error(call: ToolCall, text: str) -> ToolMessage:
    return ToolMessage(f"error: {text}", tool_call_id=call["id"], name=call["name"], status="error")
