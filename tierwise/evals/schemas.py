"""A small JSON Schema validator for the `json_schema` checker: the keywords that describe structured output.

Why not the `jsonschema` package: one more dependency for a handful of keywords. Unsupported keywords are refused
when the cases file is read, never silently ignored — a check that quietly passes is worse than none.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
CHECKED = {"type", "enum", "const", "properties", "required", "additionalProperties", "items", "minItems",
           "maxItems", "minLength", "maxLength", "minimum", "maximum", "pattern"}
ANNOTATIONS = {"$schema", "$id", "title", "description", "default", "examples", "$comment"}


def schema_problem(schema: Any, where: str = "schema") -> str | None:
    """Why `schema` cannot be used here, or None."""
    if not isinstance(schema, dict):
        return f"{where} must be a JSON object"
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key not in CHECKED:
            return f"{where}: unsupported keyword {key!r} (supported: {', '.join(sorted(CHECKED))})"
        if key == "type":
            names = value if isinstance(value, list) else [value]
            unknown = [n for n in names if n not in TYPES]
            if unknown:
                return f"{where}.type: unknown type {unknown[0]!r} (known: {', '.join(TYPES)})"
        elif key == "properties":
            if not isinstance(value, dict):
                return f"{where}.properties must be an object"
            for name, sub in value.items():
                problem = schema_problem(sub, f"{where}.properties.{name}")
                if problem:
                    return problem
        elif key in ("items", "additionalProperties") and not isinstance(value, bool):
            problem = schema_problem(value, f"{where}.{key}")
            if problem:
                return problem
        elif key == "pattern":
            try:
                re.compile(value)
            except (re.error, TypeError) as exc:
                return f"{where}.pattern: not a regex: {exc}"
    return None


def violation(value: Any, schema: dict[str, Any], where: str = "$") -> str | None:
    """The first way `value` breaks `schema`, or None when it fits."""
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[n](value) for n in names):
            return f"{where}: expected {' or '.join(names)}, got {_kind(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{where}: {value!r} is not one of {schema['enum']}"
    if "const" in schema and value != schema["const"]:
        return f"{where}: expected {schema['const']!r}"
    if isinstance(value, dict):
        problem = _object(value, schema, where)
        if problem:
            return problem
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0) or len(value) > schema.get("maxItems", len(value)):
            return f"{where}: {len(value)} items is outside the allowed count"
        items = schema.get("items")
        if isinstance(items, dict):
            for i, item in enumerate(value):
                problem = violation(item, items, f"{where}[{i}]")
                if problem:
                    return problem
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0) or len(value) > schema.get("maxLength", len(value)):
            return f"{where}: length {len(value)} is outside the allowed length"
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return f"{where}: does not match {schema['pattern']!r}"
    if TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{where}: {value} < minimum {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{where}: {value} > maximum {schema['maximum']}"
    return None


def _object(value: dict[str, Any], schema: dict[str, Any], where: str) -> str | None:
    for name in schema.get("required", []):
        if name not in value:
            return f"{where}: missing required property {name!r}"
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            problem = violation(item, properties[name], f"{where}.{name}")
        elif extra is False:
            problem = f"{where}: unexpected property {name!r}"
        elif isinstance(extra, dict):
            problem = violation(item, extra, f"{where}.{name}")
        else:
            problem = None
        if problem:
            return problem
    return None


def _kind(value: Any) -> str:
    return next((name for name, test in TYPES.items() if test(value)), type(value).__name__)
