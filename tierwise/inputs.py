"""Checks for what callers hand the Python API, shared by the graph, the call path and the batch runner.

Each raises InvalidArgumentError (an InvalidInputError) naming the argument, so a mistake is refused in the
caller's terms before any model call is made or billed.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any

from tierwise.errors import InvalidArgumentError

# Characters that show nothing and carry no request, beyond whitespace and the Cc/Cf categories (which hold
# U+200B-U+200F, U+2060, U+FEFF, U+00AD...): fillers that are letters or marks by category but render blank.
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
MAX_LABEL_CHARS = 200
MAX_CONCURRENCY = 1024


def is_blank(text: str) -> bool:
    """True when `text` has nothing a model could answer: only whitespace, control, format (zero-width) or
    filler characters. A request of U+200B alone would otherwise be billed as a question."""
    return all(ch.isspace() or ch in INVISIBLE or unicodedata.category(ch) in ("Cc", "Cf") for ch in text)


def check_label(value: Any, name: str, max_chars: int = MAX_LABEL_CHARS) -> str | None:
    """A label stored with every ledger row and shown in reports (task_type, request_id): short, one line, and
    visible. None passes (the label is optional)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidArgumentError(f"{name} must be text (str), got {type(value).__name__}")
    if len(value) > max_chars:
        raise InvalidArgumentError(f"{name} is {len(value):,} characters long; it may have at most {max_chars:,}")
    control = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf")), None)
    if control is not None:
        raise InvalidArgumentError(f"{name} contains the control character U+{ord(control):04X} at position "
                                   f"{value.index(control)}; a label is one line of visible text")
    if is_blank(value):
        raise InvalidArgumentError(f"{name} is empty; leave it out instead")
    return value


def check_concurrency(value: Any, name: str = "concurrency", maximum: int = MAX_CONCURRENCY) -> int:
    """A count of requests in flight: a whole number from 1 to `maximum` (not a bool, a float or text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(f"{name} must be a whole number from 1 to {maximum}, got {value!r}")
    if not 1 <= value <= maximum:
        raise InvalidArgumentError(f"{name} must be a whole number from 1 to {maximum}, got {value}")
    return value


def check_number(value: Any, name: str, *, low: float | None = None, high: float | None = None) -> float:
    """A finite number within [low, high]: `inf` and `nan` slip through range checks (nan compares false with
    everything), so they are refused by name."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise InvalidArgumentError(f"{name} must be a finite number, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        span = f"from {low:g} to {high:g}" if low is not None and high is not None else (
            f"at least {low:g}" if low is not None else f"at most {high:g}")
        raise InvalidArgumentError(f"{name} must be {span}, got {value:g}")
    return value


def check_extract_schema(schema: Any, name: str = "extract_schema") -> type:
    """A pydantic model class for structured output. Refused when the graph is built, not after a billed call."""
    from pydantic import BaseModel

    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    if isinstance(schema, BaseModel):
        raise InvalidArgumentError(f"{name} must be a pydantic model class, got an instance of "
                                   f"{type(schema).__name__}: pass the class itself")
    what = type(schema).__name__ if not isinstance(schema, type) else f"the class {schema.__name__}"
    raise InvalidArgumentError(f"{name} must be a pydantic model class (a subclass of pydantic.BaseModel), "
                               f"got {what}")
