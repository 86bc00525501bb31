"""extract (cheap tier): schema-strict structured output; the caller may bring its own pydantic schema."""

import dataclasses

from langchain_core.runnables import Runnable

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.inputs import check_extract_schema
from tierwise.state import Extraction, State

from .base import StageCall, Update, stage_node
from .declare import Stage

STAGE = Stage("extract", prompt="extract", reads=("input",), schema=Extraction)


def make(schema: type = Extraction) -> Runnable[State, Update]:
    check_extract_schema(schema)  # when the graph is built, not after a billed triage call
    stage = STAGE if schema is Extraction else dataclasses.replace(STAGE, schema=schema)

    def prepare(state: State, context: Context) -> StageCall:
        return stage.call(state)

    def finish(state: State, result: StageResult, context: Context) -> State:
        if result.value is None:
            return {"extracted": {}}
        return {"extracted": result.value.model_dump(mode="json")}

    return stage_node("extract", prepare, finish)
