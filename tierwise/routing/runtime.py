"""The learned pre-router as the graph uses it: loaded once per file version (per runtime), decisions mapped to
routes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from tierwise.errors import RegistryError


class RouterFiles:
    """The router files one Runtime has loaded (`runtime.resource(RouterFiles, RouterFiles)`), each reloaded when
    its file changes (e.g. after `tierwise calibrate`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, tuple[float, Any]] = {}

    def router_at(self, path: Path) -> Any:
        """The router saved at `path`."""
        from . import load_router
        from .errors import OutcomeError

        try:
            stamp = path.stat().st_mtime
        except OSError:
            raise RegistryError(f"router.model_path: {path} does not exist (train one with `tierwise router "
                                "train`)") from None
        key = str(path)
        with self._lock:
            cached = self._loaded.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        try:
            router = load_router(path)
        except (OutcomeError, ValueError, OSError) as exc:
            raise RegistryError(f"router.model_path: {path} is not a usable router file: {exc}") from None
        with self._lock:
            self._loaded[key] = (stamp, router)
        return router


def route_for(decision: Any) -> str:
    """Ladder rung → route: the cheapest model's prompts take the cheap path, the top model's go to Pro."""
    rungs = len(decision.probabilities)
    if decision.index <= 0:
        return "simple"
    if decision.index >= rungs - 1:
        return "complex"
    return "moderate"
