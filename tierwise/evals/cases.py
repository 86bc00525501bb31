"""The cases file of `tierwise eval`: JSONL, one case per line, every problem reported with its line number.

    {"id": "refund-1", "input": "Card charged twice: refund?", "task_type": "support", "reference": "yes"}
    {"input": "Order #A-1234 shipped", "pattern": "A-1234"}                      # regex checker
    {"input": "Invoice: ACME, 12 EUR", "schema": {"type": "object", "required": ["task"]}}   # JSON-schema checker
    {"input": "Explain the refund rules", "checker": "judge"}                   # LLM judge (reference optional)

`checker` defaults to what the case gives: a `reference` → exact match, a `pattern` → regex, a `schema` →
JSON-schema validity, nothing → the LLM judge. `state` adds node state a stage reads besides `input` (judge and
polish read `draft`); `messages` ([[role, text], ...]) replaces the built-in prompt, for your own stages.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tierwise.errors import EvalError, InvalidArgumentError
from tierwise.inputs import MAX_REQUEST_ID_CHARS, check_label
from tierwise.strict import loads_json, read_text

from .schemas import schema_problem

CHECKERS = ("exact", "regex", "json_schema", "judge")
KEYS = ("id", "input", "task_type", "reference", "checker", "pattern", "schema", "state", "messages")


@dataclass(frozen=True)
class Case:
    id: str
    input: str
    line: int
    checker: str
    task_type: str | None = None
    reference: Any = None
    pattern: str | None = None
    schema: dict[str, Any] | None = None
    state: dict[str, Any] = field(default_factory=dict)
    messages: list[tuple[str, str]] | None = None


def load_cases(path: str | Path) -> list[Case]:
    """Read and check every case; EvalError names the file, the line and the problem."""
    path = Path(path)
    lines = read_text(path, what="cases file").splitlines()
    cases: list[Case] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        data = loads_json(line, source=path, line=number)  # strict: no NaN, deep nesting, huge numbers
        try:
            case = parse_case(data, where, number)
        except InvalidArgumentError as exc:  # a label check_label refuses: before any case is run and billed
            raise EvalError(f"{where}: {exc}") from None
        if case.id in seen:
            raise EvalError(f"{where}: duplicate id {case.id!r} (first on line {seen[case.id]})")
        seen[case.id] = number
        cases.append(case)
    if not cases:
        raise EvalError(f"{path}: no cases (one JSON object per line)")
    return cases


def parse_case(data: Any, where: str, line: int) -> Case:
    if not isinstance(data, dict):
        raise EvalError(f"{where}: a case must be a JSON object, got {type(data).__name__}")
    unknown = [k for k in data if k not in KEYS]
    if unknown:
        raise EvalError(f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(KEYS)})")
    text = data.get("input")
    if not isinstance(text, str) or not text.strip():
        raise EvalError(f"{where}: 'input' must be a non-empty string")
    case_id = data.get("id", f"line{line}")
    if not isinstance(case_id, str | int) or isinstance(case_id, bool) or not str(case_id).strip():
        raise EvalError(f"{where}: 'id' must be a non-empty string or an integer")
    task_type = data.get("task_type")
    if task_type is not None and (not isinstance(task_type, str) or not task_type.strip()):
        raise EvalError(f"{where}: 'task_type' must be a non-empty string")
    check_label(task_type, "'task_type'")  # what the call path checks, so a bad label fails before any case runs
    check_label(str(case_id).strip(), "'id'", MAX_REQUEST_ID_CHARS)
    checker = _checker(data, where)
    state = data.get("state", {})
    if not isinstance(state, dict) or "input" in state:
        raise EvalError(f"{where}: 'state' must be an object of node state besides 'input'")
    return Case(
        id=str(case_id).strip(), input=text, line=line, checker=checker, task_type=task_type,
        reference=data.get("reference"), pattern=data.get("pattern"), schema=data.get("schema"), state=state,
        messages=_messages(data.get("messages"), where),
    )


def _checker(data: Mapping[str, Any], where: str) -> str:
    has = {"reference": "reference" in data, "pattern": "pattern" in data, "schema": "schema" in data}
    default = next((name for key, name in (("reference", "exact"), ("pattern", "regex"), ("schema", "json_schema"))
                    if has[key]), "judge")
    checker: str = data.get("checker", default)
    if checker not in CHECKERS:
        raise EvalError(f"{where}: unknown checker {checker!r} (known: {', '.join(CHECKERS)})")
    if checker == "exact" and not has["reference"]:
        raise EvalError(f"{where}: checker 'exact' needs a 'reference'")
    if checker == "regex":
        pattern = data.get("pattern")
        if not isinstance(pattern, str) or not pattern:
            raise EvalError(f"{where}: checker 'regex' needs a 'pattern' string")
        try:
            re.compile(pattern)
        except re.error as exc:
            raise EvalError(f"{where}: 'pattern' is not a valid regex: {exc}") from None
    if checker == "json_schema":
        problem = schema_problem(data.get("schema"), "'schema'")
        if problem:
            raise EvalError(f"{where}: {problem}")
    if checker == "judge" and "reference" in data and not isinstance(data["reference"], str):
        raise EvalError(f"{where}: the judge reads a text 'reference'")
    return checker


def _messages(value: Any, where: str) -> list[tuple[str, str]] | None:
    if value is None:
        return None
    ok = isinstance(value, list) and value and all(
        isinstance(m, list) and len(m) == 2 and all(isinstance(p, str) for p in m) for m in value)
    if not ok:
        raise EvalError(f"{where}: 'messages' must be a non-empty list of [role, text] pairs")
    return [(role, text) for role, text in value]
