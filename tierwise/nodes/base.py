"""Turn a node's two pure halves — build the call, read the result — into a LangGraph node.

Gap this fills: a LangGraph node is either sync or async, and an async-only node breaks `graph.invoke`.
One RunnableLambda with both halves serves invoke/stream/batch (sync) and ainvoke/astream (async, no threads).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from langchain_core.runnables import RunnableLambda

from tierwise.calls import StageResult, acall_stage, call_stage, current_context
from tierwise.context import Context
from tierwise.tiers import Registry, load_registry


@dataclass(frozen=True)
class StageCall:
    stage: str
    messages: list[Any]
    schema: type | None = None


Prepare = Callable[[dict, Context], StageCall]
Finish = Callable[[dict, StageResult, Context], dict]


def stage_node(name: str, prepare: Prepare, finish: Finish) -> RunnableLambda:
    def run(state: dict) -> dict:
        context = current_context()
        call = prepare(state, context)
        result = call_stage(
            call.stage, call.messages, schema=call.schema, context=context, task_type=state.get("task_type")
        )
        return {"steps": [name], "calls": [result.record], **finish(state, result, context)}

    async def arun(state: dict) -> dict:
        context = current_context()
        call = prepare(state, context)
        result = await acall_stage(
            call.stage, call.messages, schema=call.schema, context=context, task_type=state.get("task_type")
        )
        return {"steps": [name], "calls": [result.record], **finish(state, result, context)}

    return RunnableLambda(run, afunc=arun, name=name)


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
