"""Check and normalise the messages a stage is called with, before anything reaches a model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tierwise.errors import InvalidInputError
from tierwise.inputs import MAX_REQUEST_ID_CHARS, check_label, check_request_labels, is_blank

ROLES = {"system": "system", "user": "human", "human": "human", "assistant": "ai", "ai": "ai", "model": "ai"}


def check_text(value: Any, what: str = "input") -> str:
    """A usable request text, or an InvalidInputError saying what is wrong with it."""
    if isinstance(value, bytes | bytearray):
        raise InvalidInputError(f"{what} must be text, got bytes: decode it first (e.g. data.decode('utf-8'))")
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} must be text (str), got {type(value).__name__}")
    if _plainly_usable(value):
        return value
    if is_blank(value):
        raise InvalidInputError(f"{what} is empty: there is nothing to answer")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInputError(
            f"{what} is not valid Unicode text: a lone surrogate at position {exc.start} "
            "(often from decoding bytes with errors='surrogateescape'); fix the text before sending it"
        ) from None
    return value


def _plainly_usable(text: str) -> bool:
    """The usual text, checked in O(1): ASCII (so no lone surrogate) starting with a visible character (so not
    blank). Anything else gets the full checks."""
    return text.isascii() and "!" <= text[:1] <= "~"


def check_request(state: Any) -> str:
    """The graph's input: {"input": text, "task_type"?: str, "request_id"?: str, "labels"?: {name: text}}.
    Returns the text."""
    if "input" not in state:
        raise InvalidInputError('the request has no "input" key: send {"input": "your request text"}')
    check_request_labels(state.get("labels"))
    check_label(state.get("task_type"), "task_type")
    check_label(state.get("request_id"), "request_id", max_chars=MAX_REQUEST_ID_CHARS)
    return check_text(state["input"])


def normalize(messages: Any) -> list[Any]:
    """str | [(role, text) | BaseMessage, ...] → checked LangChain message-likes, each with non-empty text (or tool
    calls). Pairs stay (role, text) tuples with LangChain's role names: the chat model builds the message objects
    once, as it would for a hand-written graph, instead of us building them first."""
    from langchain_core.messages import BaseMessage

    if isinstance(messages, str):
        messages = [("user", messages)]
    if not isinstance(messages, Sequence) or isinstance(messages, bytes | bytearray) or not messages:
        raise InvalidInputError("messages must be a non-empty list of (role, text) pairs or LangChain messages")
    out: list[Any] = []
    for i, message in enumerate(messages):
        if isinstance(message, BaseMessage):
            if not getattr(message, "tool_calls", None):  # a turn that only calls functions has no text
                check_text(message.text, f"message {i}")
            out.append(message)
            continue
        if not (isinstance(message, tuple | list) and len(message) == 2):
            raise InvalidInputError(f"message {i} must be a (role, text) pair or a LangChain message")
        role, text = message
        kind = ROLES.get(role) if isinstance(role, str) else None
        if kind is None:
            raise InvalidInputError(f"message {i} has unknown role {role!r}; use system, user or assistant")
        usual = isinstance(text, str) and _plainly_usable(text)  # no error name to format on the usual path
        out.append((kind, text if usual else check_text(text, f"message {i}")))
    return out


def text_of(message: Any) -> str:
    return str(message[1] if isinstance(message, tuple) else message.text)
