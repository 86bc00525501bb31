"""Checks for what callers hand the Python API, shared by the graph, the call path and the batch runner.

Each raises InvalidArgumentError (an InvalidInputError) naming the argument, so a mistake is refused in the
caller's terms before any model call is made or billed.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import json
import math
import os
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ParamSpec, TypeVar

from tierwise.errors import InvalidArgumentError

# Characters that show nothing and carry no request, beyond whitespace and the Cc/Cf categories (which hold
# U+200B-U+200F, U+2060, U+FEFF, U+00AD...): fillers that are letters or marks by category but render blank.
INVISIBLE = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0")
MAX_LABEL_CHARS = 200
MAX_REQUEST_ID_CHARS = 1000  # request ids are often made of other ids (a batch's, an item's): room for them
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
    if _usual(value, max_chars):
        return value
    if len(value) > max_chars:
        raise InvalidArgumentError(f"{name} is {len(value):,} characters long; it may have at most {max_chars:,}")
    control = next((ch for ch in value if unicodedata.category(ch) in ("Cc", "Cf")), None)
    if control is not None:
        raise InvalidArgumentError(f"{name} contains the control character U+{ord(control):04X} at position "
                                   f"{value.index(control)}; a label is one line of visible text")
    if is_blank(value):
        raise InvalidArgumentError(f"{name} is empty; leave it out instead")
    return value


def _usual(value: str, max_chars: int) -> bool:
    """The usual label (ids, route names), checked on every call: no per-character scan."""
    return len(value) <= max_chars and value.isascii() and value.isprintable() and not value.isspace() and bool(value)


_PLAIN = (str, int, float, bool, type(None))
_TEXT_LABELS = ("route", "request_id", "purpose")  # stored in the ledger's text columns


def check_labels(labels: Any, name: str = "labels") -> dict[str, Any]:
    """Trace and ledger labels: a dict with text keys; `route`, `request_id` and `purpose` one-line text,
    `escalated` a bool (they are ledger columns), every other value JSON (it goes into trace metadata)."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InvalidArgumentError(f"{name} must be a dict of text keys to values, got {type(labels).__name__}")
    for key, value in labels.items():
        if not isinstance(key, str):
            raise InvalidArgumentError(f"{name} keys must be text (str), got {key!r}")
        if key in _TEXT_LABELS:
            limit = MAX_REQUEST_ID_CHARS if key == "request_id" else MAX_LABEL_CHARS
            if value is None or (type(value) is str and _usual(value, limit)):
                continue  # the usual case, without building the name an error would need
            check_label(value, f"{name}[{key!r}]", limit)
        elif key == "escalated":
            if value is not None and not isinstance(value, bool):
                raise InvalidArgumentError(f"{name}['escalated'] must be True, False or None, got {value!r}")
        elif not isinstance(value, _PLAIN):
            try:
                json.dumps(value)
            except (TypeError, ValueError):
                raise InvalidArgumentError(f"{name}[{key!r}] must be JSON (text, numbers, lists, dicts), got "
                                           f"{type(value).__name__}") from None
    return dict(labels)


REQUEST_LABEL_KEY = re.compile(r"[a-z][a-z0-9_]{0,39}")  # as [budget.per_label] names them
RESERVED_LABELS = frozenset({"route", "request_id", "escalated", "purpose", "task_type", "input"})


def check_request_labels(labels: Any, name: str = "labels") -> dict[str, str]:
    """A request's own labels (who it is for: user, team, api_key_id...): budgets per tenant and reports group by
    them. Keys: lower-case names; values: one line of visible text, kept as data (never markup, never a path)."""
    if labels is None:
        return {}
    if not isinstance(labels, Mapping):
        raise InvalidArgumentError(f'{name} must be a dict of label names to text, e.g. {{"user": "alice"}}; got '
                                   f"{type(labels).__name__}")
    for key, value in labels.items():
        if not isinstance(key, str) or not REQUEST_LABEL_KEY.fullmatch(key):
            raise InvalidArgumentError(f"{name}: the label name {key!r} is not a lower-case name (a-z, 0-9, _; "
                                       "up to 40 characters, starting with a letter)")
        if key in RESERVED_LABELS:
            raise InvalidArgumentError(f"{name}: {key!r} is tierwise's own; name your label differently")
        if value is None:
            raise InvalidArgumentError(f"{name}[{key!r}] is missing; leave the label out instead")
        check_label(value, f"{name}[{key!r}]")
    return dict(labels)


def check_tools(tools: Any, name: str = "tools") -> Any:
    """What `bind_tools` takes: a list of LangChain tools, functions, pydantic model classes or tool dicts."""
    if tools is None:
        return None
    _check_list(tools, name, "LangChain tools, functions, pydantic model classes or tool dicts")
    from langchain_core.tools import BaseTool

    for index, tool in enumerate(tools):
        # What bind_tools converts: LangChain tools, tool dicts, functions and classes, google-genai's own types.
        google = type(tool).__module__.startswith("google.genai")
        if not (isinstance(tool, BaseTool | dict) or callable(tool) or google):
            raise InvalidArgumentError(f"{name}[{index}] must be a LangChain tool, a function, a pydantic model "
                                       f"class or a tool dict, got {type(tool).__name__}")
    return tools


def check_graph_options(*, checkpointer: Any = None, cache: Any = None, cache_policy: Any = None,
                        name: Any = "graph") -> None:
    """What a graph builder hands LangGraph's compile(): refused by name when the graph is built."""
    from langgraph.cache.base import BaseCache
    from langgraph.checkpoint.base import BaseCheckpointSaver
    from langgraph.types import CachePolicy

    if not (checkpointer is None or isinstance(checkpointer, bool | BaseCheckpointSaver)):
        raise InvalidArgumentError(f"checkpointer must be a LangGraph checkpoint saver (e.g. InMemorySaver()), True, "
                                   f"False or None, got {type(checkpointer).__name__}")
    if not (cache is None or isinstance(cache, BaseCache)):
        raise InvalidArgumentError(f"cache must be a LangGraph cache (e.g. InMemoryCache()) or None, got "
                                   f"{type(cache).__name__}")
    if not (cache_policy is None or isinstance(cache_policy, CachePolicy)):
        raise InvalidArgumentError(f"cache_policy must be a langgraph.types.CachePolicy or None, got "
                                   f"{type(cache_policy).__name__}")
    check_label(name, "name")


def check_langchain_tools(tools: Any, name: str = "tools") -> Any:
    """Tools a graph runs itself: LangChain tools (`@tool` functions or BaseTool instances), in a list."""
    from langchain_core.tools import BaseTool

    _check_list(tools, name, "LangChain tools")
    for index, tool in enumerate(tools):
        if not isinstance(tool, BaseTool):
            raise InvalidArgumentError(f"{name}[{index}] must be a LangChain tool (decorate the function with "
                                       f"langchain_core.tools.tool), got {type(tool).__name__}")
    return tools


def _check_list(value: Any, name: str, of: str) -> None:
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Sequence):
        raise InvalidArgumentError(f"{name} must be a list of {of}, got {type(value).__name__}")


def check_search_tool(tool: Any, name: str = "search_tool") -> Any:
    """None (the default search) or an object with `search(query, k)` (tierwise.search.SearchTool)."""
    if tool is not None and not callable(getattr(tool, "search", None)):
        raise InvalidArgumentError(f"{name} must have a search(query, k) method (see tierwise.search.SearchTool), "
                                   f"got {type(tool).__name__}")
    return tool


def check_path(value: Any, name: str) -> Any:
    """A file path: text or an os.PathLike (not None, a number or an open file)."""
    if isinstance(value, str) and value.strip() or isinstance(value, os.PathLike):
        return value
    raise InvalidArgumentError(f"{name} must be a file path (str or pathlib.Path), got {value!r}"[:200])


def check_concurrency(value: Any, name: str = "concurrency", maximum: int = MAX_CONCURRENCY) -> int:
    """A count of requests in flight."""
    return check_count(value, name, maximum)


def check_count(value: Any, name: str, maximum: int) -> int:
    """A whole number from 1 to `maximum` (not a bool, a float or text)."""
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


P = ParamSpec("P")
R = TypeVar("R")


def named_arguments(fn: Callable[P, R]) -> Callable[P, R]:
    """Wrap a public function or constructor so a call that does not fit its signature (an unknown or misspelt
    keyword, a missing or extra argument) raises InvalidArgumentError naming the argument, not a bare TypeError.

    Free on the happy path: the call is made as is, and only a TypeError raised by the call itself (its traceback
    ends in this wrapper: the function was never entered) is translated; one from inside the function stays."""
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TypeError as exc:
            if exc.__traceback__ is None or exc.__traceback__.tb_next is not None:
                raise
            raise InvalidArgumentError(_binding_problem(fn, exc, kwargs)) from None

    if inspect.iscoroutinefunction(fn):  # stay a coroutine function (callers and LangGraph look)
        @functools.wraps(fn)
        async def awrapper(*args: Any, **kwargs: Any) -> Any:
            return await wrapper(*args, **kwargs)  # type: ignore[misc]

        return awrapper  # type: ignore[return-value]
    return wrapper


def _binding_problem(fn: Callable[..., Any], exc: TypeError, kwargs: Mapping[str, Any]) -> str:
    name = getattr(fn, "__qualname__", getattr(fn, "__name__", "this function")).removesuffix(".__init__")
    try:
        params = [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]
    except (TypeError, ValueError):
        return f"{name}(): {exc}"
    known = [p.name for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    unknown = [key for key in kwargs if key not in known]
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in params):
        close = difflib.get_close_matches(unknown[0], known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"{name}() has no argument {unknown[0]!r}; {hint}its arguments: {', '.join(known)}"
    missing = [p.name for p in params if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               and p.name not in kwargs]
    detail = str(exc).split(") ", 1)[-1] if ") " in str(exc) else str(exc)
    if "positional" in detail and not missing:
        keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
        return f"{name}(): {detail}; give {', '.join(keyword_only) or 'the arguments'} by name"
    return f"{name}(): {detail} (its arguments: {', '.join(known)})"
