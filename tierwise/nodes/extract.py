"""extract (cheap tier): schema-strict structured output; the caller may bring its own pydantic schema."""

from langchain_core.runnables import Runnable

from tierwise.calls import StageResult
from tierwise.context import Context
from tierwise.inputs import check_extract_schema
from tierwise.prompts import render
from tierwise.state import Extraction, State

from .base import StageCall, Update, stage_node


def make(schema: type = Extraction) -> Runnable[State, Update]:
    check_extract_schema(schema)  # when the graph is built, not after a billed triage call
    def prepare(state: State, context: Context) -> StageCall:
        return StageCall("extract", render("extract", input=state["input"]), schema)

    def finish(state: State, result: StageResult, context: Context) -> State:
        if result.value is None:
            return {"extracted": {}}
        return {"extracted": result.value.model_dump(mode="json")}

    return stage_node("extract", prepare, finish)
