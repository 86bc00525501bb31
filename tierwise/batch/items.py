"""Read and check a batch's input: one JSON object per line, every mistake named by its line, before any call.

    {"id": "t-1", "input": "Is this ticket urgent? ...", "task_type": "support-ticket", "metadata": {...}}

`input` is required. `id` (text or integer) names the item in the output and is what resume matches on;
without one, the line number is the id (so edit such a file only by appending). `task_type`, `request_id` and
`labels` (who the item is for, e.g. {"user": "alice"}: per-tenant budgets) go to the graph as in `tierwise run`;
`metadata` (any JSON object) is copied to the item's output line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierwise.calls.messages import check_text
from tierwise.errors import BatchInputError, InputFileError, InvalidInputError, TierwiseError
from tierwise.inputs import MAX_LABEL_CHARS, MAX_REQUEST_ID_CHARS, check_label, check_request_labels
from tierwise.strict import loads_json, read_text

KEYS = ("id", "input", "task_type", "request_id", "metadata", "labels")
MAX_ERRORS_SHOWN = 10



@dataclass(frozen=True)
class Item:
    id: str
    line: int
    input: str
    task_type: str | None = None
    request_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def payload(self, default_request_id: str) -> dict[str, Any]:
        """The graph input. The request id is stable across resumes, so a re-run groups with its first try."""
        payload: dict[str, Any] = {"input": self.input, "request_id": self.request_id or default_request_id}
        if self.task_type:
            payload["task_type"] = self.task_type
        if self.labels:
            payload["labels"] = dict(self.labels)
        return payload


def read_items(path: str | Path) -> list[Item]:
    """Every item of the file, or BatchInputError naming each bad line (up to ten of them)."""
    path = Path(path)
    try:
        text = read_text(path, what="batch input file")
    except InputFileError as exc:
        raise BatchInputError(exc.problem, source=path) from None
    items: list[Item] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue  # blank lines (a trailing newline, spacing) are not items
        try:
            item = parse_line(raw, number)
        except InvalidInputError as exc:
            errors.append(f"{path}:{number}: {exc}")
            continue
        if item.id in seen:
            errors.append(f"{path}:{number}: id {item.id!r} is already used on line {seen[item.id]}")
            continue
        seen[item.id] = number
        items.append(item)
    if errors:
        more = f"\n... and {len(errors) - MAX_ERRORS_SHOWN} more" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise BatchInputError(
            f"{len(errors)} bad line(s) in {path}; nothing was run:\n" + "\n".join(errors[:MAX_ERRORS_SHOWN]) + more
        )
    if not items:
        raise BatchInputError(f"{path}: no items (expected one JSON object per line, each with an \"input\")")
    return items


def parse_line(raw: str, number: int) -> Item:
    data = loads_json(raw)  # strict: no NaN/Infinity, duplicate keys, deep nesting or huge numbers
    if not isinstance(data, dict):
        raise InvalidInputError(f'expected a JSON object like {{"input": "..."}}, got {type(data).__name__}')
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise InvalidInputError(f"unknown key(s) {unknown}; allowed: {list(KEYS)} (put your own data in metadata)")
    if "input" not in data:
        raise InvalidInputError('no "input" key: each line needs the request text')
    text = check_text(data["input"], '"input"')
    item_id = data.get("id", number)
    if isinstance(item_id, bool) or not isinstance(item_id, str | int) or (isinstance(item_id, str) and not item_id):
        raise InvalidInputError(f'"id" must be a non-empty string or an integer, got {json.dumps(item_id)}')
    for key in ("task_type", "request_id"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InvalidInputError(f'"{key}" must be a string, got {type(data[key]).__name__}')
        # what the call path checks, here: a bad label on line 900 is refused before line 1 is run and billed
        check_label(data.get(key), f'"{key}"', MAX_REQUEST_ID_CHARS if key == "request_id" else MAX_LABEL_CHARS)
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidInputError(f'"metadata" must be a JSON object, got {type(metadata).__name__}')
    try:
        labels = check_request_labels(data.get("labels"), '"labels"')
    except TierwiseError as exc:
        raise InvalidInputError(str(exc)) from None
    return Item(str(item_id), number, text, data.get("task_type"), data.get("request_id"), metadata, labels)
