"""Lazy package exports: `import tierwise` (or any subpackage) stays light, and each name is imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package`: `exports` maps each name to the module (absolute, or relative
    with a leading dot) that defines it; the value is cached in `namespace` after the first lookup."""

    def __getattr__(name: str) -> Any:
        target = exports.get(name)
        if target is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(target, package), name)
        namespace[name] = value
        return value

    return __getattr__
