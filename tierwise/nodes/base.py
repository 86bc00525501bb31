"""Turn a node's two pure halves — build the call, read the result — into a LangGraph node.

Gap this fills: `add_node` takes a function that is either sync or async, and an async-only node breaks
`graph.invoke`. A node here has both, so invoke/stream/batch run it synchronously and ainvoke/astream run it
on the event loop (no thread hop). LangGraph's own prebuilt nodes (ToolNode, create_react_agent) do this with
RunnableCallable(func, afunc); we use it too, falling back to LangChain's public RunnableLambda (same
behaviour, one extra traced run per node: ~0.2 ms) should that internal module move.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:
    from langgraph._internal._runnable import RunnableCallable as _Node
except ImportError:  # pragma: no cover - depends on the installed LangGraph
    from langchain_core.runnables import RunnableLambda

    def _Node(func, afunc, *, name):  # noqa: N802 - stands in for a class
        return RunnableLambda(func, afunc=afunc, name=name)

from tierwise.calls import ModelCallError, StageResult, acall_stage, call_stage, current_context
from tierwise.calls.api import awarm
from tierwise.context import Context
from tierwise.ledger.errors import BudgetExceededError
from tierwise.tiers import Registry, load_registry


@dataclass(frozen=True)
class StageCall:
    stage: str
    messages: list[Any]
    schema: type | None = None
    tools: tuple[Any, ...] | None = None  # LangChain tools to bind: the result's value is then the AIMessage


# prepare returns the call to make, or the state update itself when no model call is needed.
Prepare = Callable[[dict, Context], StageCall | dict]
Finish = Callable[[dict, StageResult, Context], dict]


def stage_node(name: str, prepare: Prepare, finish: Finish):
    """A graph node running one stage: `prepare` builds the call (or returns the update itself), `finish` reads
    the result into a state update. Where to go next is the graph's business (its conditional edges)."""

    def run(state: dict) -> Any:
        context = current_context()
        state, started = _begin(state)
        if state.get("failure"):
            return {"steps": [name], **started}  # already failed: no more calls or spend
        call = prepare(state, context)
        if isinstance(call, dict):
            return {**started, **call}
        try:
            result = call_stage(call.stage, call.messages, schema=call.schema, tools=call.tools, context=context,
                                task_type=state.get("task_type"), labels=_labels(state))
        except (ModelCallError, BudgetExceededError) as failed:
            return {**started, **_failed(name, call, state, failed, finish, context)}
        update = {"steps": [name], "calls": result.records, **started, **finish(state, result, context)}
        return update

    async def arun(state: dict) -> Any:
        context = current_context()
        await awarm(context)  # file and socket work off the event loop, before prepare reads the registry
        state, started = _begin(state)
        if state.get("failure"):
            return {"steps": [name], **started}
        call = prepare(state, context)
        if isinstance(call, dict):
            return {**started, **call}
        try:
            result = await acall_stage(call.stage, call.messages, schema=call.schema, tools=call.tools,
                                       context=context, task_type=state.get("task_type"), labels=_labels(state))
        except (ModelCallError, BudgetExceededError) as failed:
            return {**started, **_failed(name, call, state, failed, finish, context)}
        update = {"steps": [name], "calls": result.records, **started, **finish(state, result, context)}
        return update

    return _Node(run, arun, name=name)


def plain_node(name: str, func: Callable[[dict], dict]):
    """A node that calls no model but reads the registry and the ledger's figures (respond, report): on the async
    path their file and database reads are done first in a worker thread (awarm), never on the event loop."""

    async def arun(state: dict) -> dict:
        await awarm(current_context())
        return func(state)

    return _Node(func, arun, name=name)


def _begin(state: dict) -> tuple[dict, dict]:
    """The first node of a request gives it an id, so every call of the request — its own included — is grouped
    under it in the ledger. Returns the state to work on and what to add to the node's update."""
    if state.get("request_id"):
        return state, {}
    request_id = uuid.uuid4().hex
    return {**state, "request_id": request_id}, {"request_id": request_id}


def _labels(state: dict) -> dict:
    """What the ledger and traces group calls by."""
    return {"route": state.get("route"), "request_id": state.get("request_id"), "escalated": state.get("escalated")}


def _failed(name: str, call: StageCall, state: dict, failed: Exception, finish: Finish, context: Context):
    """A non-critical stage's failure is an unusable result the node already handles (the pipeline escalates);
    a critical stage's failure, or a hard spend cap, ends the request with a typed failure: its text is never
    replaced by cheaper text."""
    records = getattr(failed, "records", [])
    update = {"steps": [name], "calls": records}
    if isinstance(failed, BudgetExceededError):
        return update | {"failure": {"stage": call.stage, "kind": "budget", "message": str(failed)}}
    if registry(context).stages[call.stage].critical:
        return update | {"failure": {"stage": call.stage, "kind": failed.kind, "message": str(failed)}}
    return update | finish(state, StageResult(None, records), context)


def registry(context: Context) -> Registry:
    return load_registry(context.registry_path)


def draft_score_threshold(context: Context) -> int:
    if context.draft_score_threshold is not None:
        return context.draft_score_threshold
    return registry(context).data.thresholds.draft_score


def confidence_threshold(context: Context) -> float:
    if context.confidence_threshold is not None:
        return context.confidence_threshold
    return registry(context).data.thresholds.confidence
