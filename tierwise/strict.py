"""The one strict parsing layer: every file and environment variable tierwise reads goes through here.

Python's json module accepts what strict JSON readers refuse (NaN, Infinity, duplicate keys, lone surrogates) and
fails with RecursionError or ValueError on hostile input (100,000 nested brackets, a 5,000-digit number); tomllib
has the same gaps (nan/inf literals, huge integers, deep arrays). `loads_json` and `loads_toml` close them once:
a value that leaves here is finite, at most MAX_DEPTH deep, made of numbers of at most MAX_NUMBER_CHARS characters
and strings that encode as UTF-8. `validate` turns a pydantic model's errors into the same `InputFileError`,
naming the file, line and field. The CLI turns every InputFileError into one `error:` line, exit 2 (cli.py).

Unknown keys: refused everywhere (every model here and in the registry is `extra="forbid"`); a typo is far more
often a mistake than a feature, and a file read by two tierwise versions says so instead of dropping data.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ValidationError

from tierwise.errors import InputFileError

MAX_DEPTH = 64  # nesting of arrays/objects: real data is a handful deep; a bomb is thousands
MAX_NUMBER_CHARS = 40  # a number literal: 1e300 and 2**64 fit; a 5,000-digit number is an attack or a mistake
MAX_INT = 10**30  # a TOML integer (parsed before we can see its text) beyond this is refused the same way
M = TypeVar("M", bound=BaseModel)


class _Refused(ValueError):
    """A strictness rule broken inside the json decoder's hooks; turned into an InputFileError below."""


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not strict JSON (no NaN or Infinity); write null or a finite number")


def _int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text):,} characters (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"a number of {len(text):,} characters (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"the number {text} is too large (it is infinite as a float)")
    return value


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"the key {key!r} appears twice in one object (which one is meant?)")
        out[key] = value
    return out


_DECODER = json.JSONDecoder(parse_float=_float, parse_int=_int, parse_constant=_constant, object_pairs_hook=_pairs)


def loads_json(text: str | bytes, *, source: object = None, line: int | None = None) -> Any:
    """`text` as strict JSON; InputFileError naming `source` and `line` otherwise."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = _DECODER.decode(text)
    except UnicodeDecodeError as exc:
        raise InputFileError(f"not UTF-8 text (byte {exc.start})", source=source, line=line) from None
    except json.JSONDecodeError as exc:
        at = f"at column {exc.colno}" if line is not None or exc.lineno == 1 else f"at line {exc.lineno}"
        raise InputFileError(f"not JSON: {exc.msg} {at}", source=source,
                             line=line if line is not None or exc.lineno == 1 else exc.lineno) from None
    except _Refused as exc:
        raise InputFileError(str(exc), source=source, line=line) from None
    except RecursionError:
        raise InputFileError(f"nested deeper than {MAX_DEPTH} levels", source=source, line=line) from None
    check_tree(value, source=source, line=line)
    return value


def dumps_json(value: Any, **options: Any) -> str:
    """Strict JSON out (ValueError on NaN/Infinity): what strict readers elsewhere can read back."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, **options)


_TOML_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def loads_toml(text: str, *, source: object = None) -> dict[str, Any]:
    """`text` as TOML, with the same limits as JSON (no nan/inf, depth, number size)."""
    try:
        value = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = _TOML_AT.search(str(exc))
        problem = _TOML_AT.sub("", str(exc)).strip() or "invalid TOML"
        raise InputFileError(f"not valid TOML: {problem}" + (f" (column {found.group(2)})" if found else ""),
                             source=source, line=int(found.group(1)) if found else None) from None
    except RecursionError:
        raise InputFileError(f"nested deeper than {MAX_DEPTH} levels", source=source) from None
    except ValueError as exc:  # an integer beyond Python's digit limit
        raise InputFileError(f"a value tierwise cannot read: {exc}"[:300], source=source) from None
    check_tree(value, source=source)
    return value


def check_tree(value: Any, *, source: object = None, line: int | None = None) -> None:
    """Depth, finite and bounded numbers, and text that is valid Unicode, checked without recursion."""
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]  # depth: how many arrays/objects hold this one
    while stack:
        node, depth, field = stack.pop()
        if depth > MAX_DEPTH and isinstance(node, dict | list):
            raise InputFileError(f"nested deeper than {MAX_DEPTH} levels", source=source, line=line)
        if isinstance(node, dict):
            for key, item in node.items():
                _check_text(key, source, line, field)
                stack.append((item, depth + 1, f"{field}.{key}" if field else str(key)))
        elif isinstance(node, list):
            stack.extend((item, depth + 1, f"{field}[{i}]") for i, item in enumerate(node))
        elif isinstance(node, str):
            _check_text(node, source, line, field)
        elif isinstance(node, float) and not math.isfinite(node):
            raise InputFileError(f"{node} is not a finite number", source=source, line=line, field=field or None)
        elif isinstance(node, int) and not isinstance(node, bool) and abs(node) >= MAX_INT:
            raise InputFileError(f"the number is too large (at most {MAX_NUMBER_CHARS} digits)", source=source,
                                 line=line, field=field or None)


def _check_text(text: str, source: object, line: int | None, field: str) -> None:
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InputFileError(f"the text holds a lone surrogate U+{ord(text[exc.start]):04X} (not valid Unicode)",
                             source=source, line=line, field=field or None) from None


def url_problem(url: object) -> str | None:
    """Why `url` cannot be a Gemini-compatible endpoint, or None: http(s), a host, no credentials, no spaces. One
    check for every place a base URL comes from (--base-url, Context, $TIERWISE_BASE_URL, [endpoint], --upstream),
    so `http://` fails at once as a setting instead of being retried as a dead server."""
    if not isinstance(url, str):
        return f"must be text, got {type(url).__name__}"
    text = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in text):
        return f"contains spaces or control characters: {text!r}"
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - a port out of range or not a number raises here
    except ValueError as exc:
        return f"is not a URL ({exc}): {text!r}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"must start with http:// or https://, got {text!r}"
    if not parts.hostname:
        return f"has no host, got {text!r} (e.g. http://127.0.0.1:8765)"
    if parts.username is not None or parts.password is not None:
        return "must not carry a user name or password (the API key goes in GOOGLE_API_KEY / GEMINI_API_KEY)"
    if parts.query or parts.fragment:
        return f"must not have a ?query or #fragment, got {text!r}"
    return None


def read_text(path: str | os.PathLike[str], *, what: str = "file") -> str:
    """A text file's contents (UTF-8, a byte-order mark dropped); InputFileError saying why it cannot be read."""
    path = Path(path)
    try:
        kind = path.stat().st_mode
        if stat.S_ISCHR(kind) or stat.S_ISBLK(kind):  # /dev/zero would be read for ever; a pipe (<(...)) is fine
            raise InputFileError(f"is a device, not a {what}", source=path)
        return path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise InputFileError(f"no such {what}", source=path) from None
    except IsADirectoryError:
        raise InputFileError(f"is a folder, not a {what}", source=path) from None
    except UnicodeDecodeError as exc:
        raise InputFileError(f"not UTF-8 text (byte {exc.start}); save it as UTF-8", source=path) from None
    except OSError as exc:
        raise InputFileError(f"cannot read the {what}: {exc.strerror or exc}", source=path) from None


def read_toml(path: str | os.PathLike[str], *, what: str = "TOML file") -> dict[str, Any]:
    return loads_toml(read_text(path, what=what), source=path)


def validate(model: type[M], data: Any, *, source: object = None, line: int | None = None) -> M:
    """`data` as `model`; InputFileError naming each bad field (`metadata.x: Input should be ...`)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InputFileError(describe(exc), source=source, line=line) from None


def describe(exc: ValidationError) -> str:
    """One clause per problem, each naming its field: `prices.0.input: Input should be a valid number`."""
    clauses = []
    for err in exc.errors(include_url=False):
        key = ".".join(str(part) for part in err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        clauses.append(f"{key}: {message}" if key else message)
    return "; ".join(clauses)
