"""tools (no model call): runs the tool calls of the last step. A tool's error goes back to the model as the
tool's answer, as LangGraph's ToolNode does, so the loop can recover instead of crashing the request."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import ToolMessage

from ..base import _Node


def make(tools: Sequence[Any]):
    by_name = {tool.name: tool for tool in tools}

    def run(state: dict) -> dict:
        calls = state["messages"][-1].tool_calls
        return _update(state, [_run_one(by_name, call) for call in calls])

    async def arun(state: dict) -> dict:
        calls = state["messages"][-1].tool_calls
        return _update(state, list(await asyncio.gather(*(_arun_one(by_name, call) for call in calls))))

    return _Node(run, arun, name="tools")


def _update(state: dict, results: list[ToolMessage]) -> dict:
    return {"steps": ["tools"], "messages": results, "tool_rounds": state.get("tool_rounds", 0) + 1}


def _run_one(by_name: dict, call: dict) -> ToolMessage:
    tool = by_name.get(call["name"])
    if tool is None:
        return _error(call, f"unknown tool {call['name']!r}; available: {', '.join(by_name)}")
    try:
        return _message(call, tool.invoke(call["args"]))
    except Exception as exc:  # noqa: BLE001 - the model reads the error and may try again
        return _error(call, f"{type(exc).__name__}: {exc}")


async def _arun_one(by_name: dict, call: dict) -> ToolMessage:
    tool = by_name.get(call["name"])
    if tool is None:
        return _error(call, f"unknown tool {call['name']!r}; available: {', '.join(by_name)}")
    try:
        return _message(call, await tool.ainvoke(call["args"]))
    except Exception as exc:  # noqa: BLE001
        return _error(call, f"{type(exc).__name__}: {exc}")


def _message(call: dict, output: Any) -> ToolMessage:
    return ToolMessage(str(output) or "(no output)", tool_call_id=call["id"], name=call["name"])


def _error(call: dict, text: str) -> ToolMessage:
    return ToolMessage(f"error: {text}", tool_call_id=call["id"], name=call["name"], status="error")
