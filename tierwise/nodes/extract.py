"""extract (cheap tier): schema-strict structured output; the caller may bring its own pydantic schema."""

from tierwise.inputs import check_extract_schema
from tierwise.prompts import render
from tierwise.state import Extraction

from .base import StageCall, stage_node


def make(schema: type = Extraction):
    check_extract_schema(schema)  # when the graph is built, not after a billed triage call
    def prepare(state, context):
        return StageCall("extract", render("extract", input=state["input"]), schema)

    def finish(state, result, context):
        if result.value is None:
            return {"extracted": {}}
        return {"extracted": result.value.model_dump(mode="json")}

    return stage_node("extract", prepare, finish)
