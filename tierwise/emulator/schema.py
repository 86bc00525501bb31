"""Response-schema plumbing: Gemini's legacy OpenAPI-style ``responseSchema`` to JSON Schema.

Backends only ever see JSON Schema (what ``responseJsonSchema`` carries), so the legacy field is
converted once at the wire boundary.
"""

from __future__ import annotations

from typing import Any

_INT_FIELDS = ("minItems", "maxItems", "minLength", "maxLength", "minProperties", "maxProperties")
_DROP = ("nullable", "propertyOrdering", "example")


def from_openapi(schema: Any) -> Any:
    """Convert a Gemini ``Schema`` (``type: "OBJECT"``, ``nullable``, int64-as-string limits)."""
    if isinstance(schema, list):
        return [from_openapi(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DROP:
            continue
        if key == "type" and isinstance(value, str):
            if value.upper() != "TYPE_UNSPECIFIED":
                out["type"] = value.lower()
        elif key == "format" and value == "enum":
            continue
        elif key == "properties" and isinstance(value, dict):
            order = schema.get("propertyOrdering") or []
            names = [n for n in order if n in value] + [n for n in value if n not in order]
            out["properties"] = {n: from_openapi(value[n]) for n in names}
        elif key in ("items", "anyOf"):
            out[key] = from_openapi(value)
        elif key in _INT_FIELDS and isinstance(value, str) and value.isdigit():
            out[key] = int(value)
        else:
            out[key] = value
    if schema.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def remote_refs(schema: Any) -> list[str]:
    """``$ref`` values that point outside the schema (would make a converter fetch a URL)."""
    found: list[str] = []
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.append(ref)
        for value in schema.values():
            found.extend(remote_refs(value))
    elif isinstance(schema, list):
        for value in schema:
            found.extend(remote_refs(value))
    return found
