"""What an eval sends a stage, and what it reads back: the pipeline's own prompts, so an eval measures the stage
as it runs in production, not a paraphrase of it."""

from __future__ import annotations

from typing import Any

from tierwise.context import Context
from tierwise.strict import loads_json

from .cases import Case
from .errors import EvalError

BUILT_IN = ("triage", "extract", "draft", "judge", "reason", "polish")


def stage_call(stage: str, case: Case, context: Context) -> tuple[Any, type | None]:
    """(messages, schema) for running `stage` on `case`. A case's own `messages` win (for your own stages)."""
    if case.messages is not None:
        return case.messages, None
    from tierwise.prompts import render
    from tierwise.state import Extraction, Triage

    if stage == "triage":
        return render("triage", input=case.input), Triage
    if stage == "extract":
        return render("extract", input=case.input), Extraction
    if stage not in BUILT_IN:
        raise EvalError(f"stage {stage!r} has no built-in prompt (built-in: {', '.join(BUILT_IN)}); give its "
                        f"cases a 'messages' list")
    from tierwise.nodes import draft, judge, polish, reason

    node = {"draft": draft, "judge": judge, "reason": reason, "polish": polish}[stage]
    call = node.prepare({"input": case.input, **case.state}, context)
    return call.messages, call.schema


def answer_text(value: Any) -> str:
    """The text a checker or a judge reads: a draft's answer, other structured output as JSON, text as is."""
    from pydantic import BaseModel

    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        answer = getattr(value, "answer", None)
        return answer if isinstance(answer, str) else value.model_dump_json()
    return getattr(value, "text", None) or str(value)


def answer_json(value: Any) -> Any:
    """The answer as JSON data for the schema checker; raises ValueError when it is not JSON."""
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    text = answer_text(value).strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    return loads_json(text)  # strict (an InputFileError is a ValueError): a hostile answer cannot crash the check


def request_text(messages: Any) -> str:
    """The user's side of a prompt, for a judge: every user turn's text."""
    parts = []
    for message in messages:
        role, text = (message if isinstance(message, tuple | list) else (getattr(message, "type", ""),
                                                                          getattr(message, "text", "")))
        if role in ("user", "human"):
            parts.append(text)
    return "\n\n".join(parts)
