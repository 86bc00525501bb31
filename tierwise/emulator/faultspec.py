"""Fault specs from text: a compact string for the command line, or a TOML / JSON file.

Compact form, items separated by commas::

    rate_limit:0.2:retry_after=1,unavailable:0.1,slow:0.05:delay_ms=3000
    rate_limit:model=gemini-3.5-flash-lite:times=2,seed=7,window:gemini-3.5-flash-lite=1000

A fault item is ``kind``, then ``:``-separated parts: a bare number is the rate, ``key=value``
sets ``model`` / ``rate`` / ``times`` / ``every`` / ``after`` or a parameter of the kind (values:
``true`` / ``false``, numbers, else text). ``seed=N`` sets the seed; ``window:GLOB=N`` a model's
context window. Files (``*.toml`` / ``*.json``) hold ``seed``, ``[context_windows]`` and
``[[faults]]`` tables with the same keys (JSON: an object, or just the list of faults).
Every error names the item or key at fault.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tierwise.errors import InputFileError
from tierwise.strict import loads_json, loads_toml, read_text

from .faults import Fault, Faults, FaultSpecError

_FILE_KEYS = ("faults", "seed", "context_windows")


def parse_faults(spec: str) -> Faults:
    """A :class:`Faults` from a compact spec or a ``.toml`` / ``.json`` file path; :class:`FaultSpecError` if bad."""
    if not isinstance(spec, str) or not spec.strip():
        raise FaultSpecError("empty fault spec")
    spec = spec.strip()
    if spec.lower().endswith((".toml", ".json")):
        return load_faults(spec)
    faults: list[Fault] = []
    seed = 0
    windows: dict[str, int] = {}
    for n, item in enumerate(spec.split(","), 1):
        item = item.strip()
        where = f"fault spec item {n} {item!r}"
        if not item:
            raise FaultSpecError(f"fault spec item {n} is empty (items are separated by single commas)")
        try:
            if item.startswith("seed="):
                seed = _integer(item.removeprefix("seed="), "seed")
            elif item.startswith("window:"):
                glob, _, size = item.removeprefix("window:").rpartition("=")
                if not glob:
                    raise FaultSpecError("expected window:MODEL=TOKENS")
                windows[glob] = _integer(size, "window size")
            else:
                faults.append(parse_fault(item))
        except FaultSpecError as exc:
            raise FaultSpecError(f"{where}: {exc}") from None
    return Faults(faults, seed=seed, context_windows=windows)


def parse_fault(item: str) -> Fault:
    """One compact fault item, e.g. ``rate_limit:0.2:retry_after=1``."""
    kind, *parts = item.split(":")
    fields: dict[str, Any] = {}
    for part in parts:
        key, eq, raw = part.partition("=")
        if not eq:
            key, raw = "rate", part
            try:
                float(raw)
            except ValueError:
                raise FaultSpecError(f"{part!r} is neither a rate (a number) nor key=value") from None
        key = key.strip()
        if not key:
            raise FaultSpecError(f"{part!r}: missing the key before '='")
        if key in fields:
            raise FaultSpecError(f"{key} given twice")
        fields[key] = raw.strip() if key == "model" else _value(raw.strip())
    return Fault(kind.strip(), **fields)


def load_faults(path: str | Path) -> Faults:
    """Read ``seed``, ``context_windows`` and ``faults`` from a TOML or JSON file."""
    path = Path(path)
    toml = path.suffix.lower() == ".toml"
    try:  # the strict layer: no NaN/Infinity, bounded nesting and numbers, errors naming the file and line
        raw = read_text(path, what="fault file")
        data = loads_toml(raw, source=path) if toml else loads_json(raw, source=path)
    except InputFileError as exc:
        raise FaultSpecError(str(exc)) from None
    if isinstance(data, list):
        data = {"faults": data}
    if not isinstance(data, dict):
        raise FaultSpecError(f"{path}: expected an object with 'faults' or a list of faults")
    for key in data:
        if key not in _FILE_KEYS:
            raise FaultSpecError(f"{path}: unknown top-level key {key!r} (allowed: {', '.join(_FILE_KEYS)})")
    faults = data.get("faults", [])
    if not isinstance(faults, list):
        raise FaultSpecError(f"{path}: 'faults' must be a list ([[faults]] tables in TOML)")
    windows = data.get("context_windows", {})
    if not isinstance(windows, dict):
        raise FaultSpecError(f"{path}: 'context_windows' must be a table/object of model = tokens")
    try:
        built = [Fault.from_dict(f, f"faults[{i}]") for i, f in enumerate(faults)]
        return Faults(built, seed=data.get("seed", 0), context_windows=windows)
    except FaultSpecError as exc:
        raise FaultSpecError(f"{path}: {exc}") from None


def _value(raw: str) -> Any:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    for kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            pass
    return raw


def _integer(raw: str, what: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise FaultSpecError(f"{what} must be an integer, got {raw!r}") from None
