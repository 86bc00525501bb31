"""Read a model's reply: the value the caller gets (text, a parsed schema instance, or the tool-calling message)
and, if it is unusable, why — an answer is judged on its content, not just its HTTP status."""

from __future__ import annotations

from typing import Any

from .failures import Failure, classify_answer


def read_reply(output: Any, schema: type | None, tools: Any) -> tuple[Any, str, Failure | None]:
    """(value, text, failure): failure is None when the answer is usable."""
    text = (output.text or "").strip()
    if tools and getattr(output, "tool_calls", None):
        value, schema_error, text = output, None, text or "(tool calls)"
    elif schema is None:
        value, schema_error = (output if tools else text or None), None
    else:
        value, schema_error = parse(text, schema)
    return value, text, classify_answer(output, text, schema_error, schema is not None)


def parse(text: str, schema: type) -> tuple[Any, str | None]:
    """The schema instance, or (None, why not): a bad output is a record, not an exception."""
    from pydantic import ValidationError

    if not text:
        return None, "empty response"
    if text.startswith("```"):  # tolerate a fenced block, as LangChain's parsers do
        text = text.strip("`").removeprefix("json").strip()
    try:
        return schema.model_validate_json(text), None  # type: ignore[attr-defined]
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "output"
        return None, f"output does not fit {schema.__name__}: {where}: {first['msg']}"[:500]
