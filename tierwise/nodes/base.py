"""Turn a node's two pure halves — build the call, read the result — into a LangGraph node.

Gap this fills: `add_node` takes a function that is either sync or async, and an async-only node breaks
`graph.invoke`. A node here has both, so invoke/stream/batch run it synchronously and ainvoke/astream run it
on the event loop (no thread hop). LangGraph's own prebuilt nodes (ToolNode, create_react_agent) do this with
RunnableCallable(func, afunc); we use it too, falling back to LangChain's public RunnableLambda (same
behaviour, one extra traced run per node: ~0.2 ms) should that internal module move.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

from langchain_core.runnables import Runnable

try:
    from langgraph._internal._runnable import RunnableCallable as _Node
except ImportError:  # pragma: no cover - depends on the installed LangGraph
    from langchain_core.runnables import RunnableLambda

    # A function standing in for the class: mypy sees both definitions of the name.
    def _Node(  # type: ignore[no-redef]  # noqa: N802
        func: Callable[..., Any], afunc: Callable[..., Awaitable[Any]], *, name: str
    ) -> Runnable[Any, Any]:
        return RunnableLambda(func, afunc=afunc, name=name)

from langgraph.types import Command

from tierwise.calls import ModelCallError, StageResult, acall_stage, call_stage, current_context
from tierwise.calls.runtime import CallRuntime, current_runtime
from tierwise.context import Context
from tierwise.errors import BudgetExceededError
from tierwise.inputs import named_arguments
from tierwise.ledger.url import LedgerPool
from tierwise.tiers import Registry


@dataclass(frozen=True)
class StageCall:
    stage: str
    messages: list[Any]
    schema: type | None = None
    tools: tuple[Any, ...] | None = None  # LangChain tools to bind: the result's value is then the AIMessage
    cache_prefix: int = 0  # leading messages (system prompt, a long document) an explicit cache may hold


StageCall.__init__ = named_arguments(StageCall.__init__)  # type: ignore[method-assign]  # misuse named, not TypeError

StateT = TypeVar("StateT", bound=Mapping[str, Any])
"""What a node reads: one of the graph state TypedDicts in tierwise.state."""
Update = Mapping[str, Any]
"""What a node returns: a partial state (a TypedDict of its graph's state, total=False)."""
StateT_contra = TypeVar("StateT_contra", bound=Mapping[str, Any], contravariant=True)


class PlainNode(Protocol[StateT_contra]):
    """A node that makes no model call: a function of the state (the parameter's name is LangGraph's)."""

    def __call__(self, state: StateT_contra) -> Update: ...

# prepare returns the call to make, or the state update itself when no model call is needed.
Prepare = Callable[[StateT, Context], StageCall | Update]
Finish = Callable[[StateT, StageResult, Context], Update]


def node_runnable(
    run: Callable[[StateT], Update | Command[Any]], arun: Callable[[StateT], Awaitable[Update | Command[Any]]], *,
    name: str,
) -> Runnable[StateT, Update]:
    """One node with a sync and an async body (see the module docstring for why); either may return a state
    update or a `Command` (a node that routes itself)."""
    node: Runnable[StateT, Update] = _Node(run, arun, name=name)
    return node


@named_arguments
def stage_node(name: str, prepare: Prepare[StateT], finish: Finish[StateT]) -> Runnable[StateT, Update]:
    """A graph node running one stage: `prepare` builds the call (or returns the update itself), `finish` reads
    the result into a state update. Where to go next is the graph's business (its conditional edges)."""

    def run(state: StateT) -> Update:
        context = current_context()
        state, started = _begin(state)
        if state.get("failure"):
            return {"steps": [name], **started}  # already failed: no more calls or spend
        call = prepare(state, context)
        if not isinstance(call, StageCall):
            return {**started, **call}
        try:
            result = call_stage(call.stage, call.messages, schema=call.schema, tools=call.tools, context=context,
                                task_type=state.get("task_type"), labels=_labels(state), runtime=current_runtime())
        except (ModelCallError, BudgetExceededError) as failed:
            return {**started, **_failed(name, call, state, failed, finish, context)}
        update = {"steps": [name], "calls": result.records, **started, **finish(state, result, context)}
        return update

    async def arun(state: StateT) -> Update:
        context = current_context()
        await current_runtime().awarm(context)  # file and socket work off the event loop, before prepare reads
        state, started = _begin(state)
        if state.get("failure"):
            return {"steps": [name], **started}
        call = prepare(state, context)
        if not isinstance(call, StageCall):
            return {**started, **call}
        try:
            result = await acall_stage(call.stage, call.messages, schema=call.schema, tools=call.tools,
                                       context=context, task_type=state.get("task_type"), labels=_labels(state),
                                       cache_prefix=call.cache_prefix)
        except (ModelCallError, BudgetExceededError) as failed:
            return {**started, **_failed(name, call, state, failed, finish, context)}
        update = {"steps": [name], "calls": result.records, **started, **finish(state, result, context)}
        return update

    return node_runnable(run, arun, name=name)


def plain_node(name: str, func: Callable[[StateT], Update]) -> Runnable[StateT, Update]:
    """A node that calls no model but reads the registry and the ledger's figures (respond, report): on the async
    path their file and database reads are done first in a worker thread (awarm), never on the event loop."""

    async def arun(state: StateT) -> Update:
        await current_runtime().awarm(current_context())
        return func(state)

    return node_runnable(func, arun, name=name)


def _begin(state: StateT) -> tuple[StateT, dict[str, str]]:
    """The first node of a request gives it an id, so every call of the request — its own included — is grouped
    under it in the ledger. Returns the state to work on and what to add to the node's update."""
    if state.get("request_id"):
        return state, {}
    request_id = uuid.uuid4().hex
    # The same TypedDict with one more of its own keys (every state has request_id): mypy can't infer that.
    return cast(StateT, {**state, "request_id": request_id}), {"request_id": request_id}


def _labels(state: Mapping[str, Any]) -> dict[str, Any]:
    """What the ledger and traces group calls by: the request's own labels (user, team...) and tierwise's."""
    labels = {**(state.get("labels") or {}), "route": state.get("route"), "request_id": state.get("request_id"),
              "escalated": state.get("escalated")}
    margin = getattr(state.get("triage"), "margin", None)
    if margin is not None:  # for shadow sampling aimed at uncertain requests
        labels["router_margin"] = margin
    return labels


def _failed(
    name: str, call: StageCall, state: StateT, failed: ModelCallError | BudgetExceededError, finish: Finish[StateT],
    context: Context,
) -> dict[str, Any]:
    """A non-critical stage's failure is an unusable result the node already handles (the pipeline escalates);
    a critical stage's failure, or a hard spend cap, ends the request with a typed failure: its text is never
    replaced by cheaper text."""
    records = getattr(failed, "records", [])
    update: dict[str, Any] = {"steps": [name], "calls": records}
    if isinstance(failed, BudgetExceededError):
        return update | {"failure": {"stage": call.stage, "kind": "budget", "message": str(failed)}}
    if registry(context).stages[call.stage].critical:
        return update | {"failure": {"stage": call.stage, "kind": failed.kind, "message": str(failed)}}
    return {**update, **finish(state, StageResult(None, records), context)}


def registry(context: Context) -> Registry:
    """The registry of the running graph's runtime, for this run's context."""
    return current_runtime().registry_for(context)


def ledgers(runtime: CallRuntime | None = None) -> LedgerPool:
    """The running graph's ledgers (for the figures respond adds up)."""
    rt = current_runtime(runtime)
    return rt.resource(LedgerPool, lambda: LedgerPool(env=rt.env))


def draft_score_threshold(context: Context) -> int:
    if context.draft_score_threshold is not None:
        return context.draft_score_threshold
    return registry(context).data.thresholds.draft_score


def confidence_threshold(context: Context) -> float:
    if context.confidence_threshold is not None:
        return context.confidence_threshold
    return registry(context).data.thresholds.confidence
