"""Where model calls go: Google's Gemini API, a user-given endpoint, or tierwise's in-process emulator."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from typing import Protocol

from tierwise.context import Context
from tierwise.errors import BackendUnavailableError

log = logging.getLogger("tierwise.calls")
KEY_VARIABLES = ("GOOGLE_API_KEY", "GEMINI_API_KEY")
EMULATOR_KEY = "emulator"
LOCAL_MAX_TOKENS = 256  # the emulator accepts any key; this one is no secret


@dataclass(frozen=True)
class Endpoint:
    kind: str  # "gemini" | "emulator" | "custom"
    base_url: str | None
    api_key: str = field(repr=False)  # never printed: repr=False keeps it out of logs and tracebacks
    backend: str = ""  # for the emulator: "local" or "scripted"

    def describe(self) -> str:
        if self.kind == "gemini":
            return "Gemini API"
        if self.kind == "emulator":
            return f"emulator ({self.backend}) at {self.base_url}"
        return f"endpoint {self.base_url}"


def api_key_from_env() -> str | None:
    for name in KEY_VARIABLES:
        if os.environ.get(name):
            return os.environ[name]
    return None


def resolve_endpoint(context: Context) -> Endpoint:
    key = api_key_from_env()
    if context.base_url:
        return Endpoint("custom", context.base_url.rstrip("/"), key or EMULATOR_KEY)
    backend = context.backend
    if backend == "gemini" or (backend == "auto" and key):
        if not key:
            raise BackendUnavailableError("backend 'gemini' needs GOOGLE_API_KEY or GEMINI_API_KEY to be set")
        return Endpoint("gemini", None, key)
    if backend == "auto":
        backend = "local" if local_model_available() else "scripted"
        if backend == "scripted":
            _warn_once("no API key and no local model: answers come from the scripted demo backend "
                       "(install tierwise[local] for a real local model)")
    return _emulator_endpoint(backend)


_warned: set[str] = set()


def _warn_once(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        log.warning(message)


class Launcher(Protocol):
    """Starts tierwise's emulator with a named backend ("local", "scripted"): the calls package knows only this
    interface; tierwise/defaults.py installs the real one (tierwise.emulator), so calls/ never imports it."""

    def available(self, backend: str) -> bool: ...

    def start(self, backend: str) -> str:
        """Start an emulator on 127.0.0.1 with `backend`; return its base URL."""
        ...


_launcher: Launcher | None = None


def set_launcher(launcher: Launcher | None) -> None:
    global _launcher
    _launcher = launcher


def local_model_available() -> bool:
    return _launcher is not None and _launcher.available("local")


_emulators: dict[str, Endpoint] = {}
_lock = threading.Lock()


def _emulator_endpoint(backend: str) -> Endpoint:
    """Start (once per process) an emulator on 127.0.0.1 with the chosen backend."""
    if backend not in ("local", "scripted"):
        raise BackendUnavailableError(f"unknown backend {backend!r}; choose auto, gemini, local or scripted")
    if _launcher is None:
        raise BackendUnavailableError(f"backend {backend!r} needs tierwise's emulator; import tierwise to install it")
    with _lock:
        if backend not in _emulators:
            _emulators[backend] = Endpoint("emulator", _launcher.start(backend), EMULATOR_KEY, backend)
        return _emulators[backend]
