"""What an eval sends a stage, and what it reads back: the pipeline's own prompts, so an eval measures the stage
as it runs in production, not a paraphrase of it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tierwise.context import Context
from tierwise.errors import EvalError
from tierwise.strict import loads_json

from .cases import Case

BUILT_IN = ("triage", "extract", "draft", "judge", "reason", "polish")


def declared_stages(extra: Sequence[Any] = ()) -> dict[str, Any]:
    """The main graph's stage declarations (tierwise.Stage), then `extra` (your own), by name."""
    from tierwise.nodes import draft, extract, judge, polish, reason, triage

    stages = [m.STAGE for m in (triage, extract, draft, judge, reason, polish)] + list(extra)
    return {stage.name: stage for stage in stages}


def stage_call(stage: str, case: Case, context: Context, declared: Mapping[str, Any] | None = None
               ) -> tuple[Any, type | None]:
    """(messages, schema) for running `stage` on `case`, from the stage's declaration — what its graph node
    sends. A case's own `messages` win (for a stage with no declaration)."""
    if case.messages is not None:
        return case.messages, None
    declared = declared if declared is not None else declared_stages()
    found = declared.get(stage)
    if found is None:
        raise EvalError(f"stage {stage!r} has no declaration (declared: {', '.join(declared)}); pass its "
                        f"tierwise.Stage, or give its cases a 'messages' list")
    try:
        return found.messages({"input": case.input, **case.state}), found.schema
    except KeyError as missing:
        raise EvalError(f"case {case.id!r} (line {case.line}): stage {stage!r} reads {missing}, which the case's "
                        "state does not give") from None


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
