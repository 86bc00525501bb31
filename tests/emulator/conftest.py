"""Fixtures: a scripted emulator per test and the real langchain Gemini client pointed at it."""

from __future__ import annotations

import pytest
from emulator_models import TEST_MODELS

from tierwise.emulator import Emulator, ScriptedBackend

MODEL = "gemini-3.5-flash-lite"


@pytest.fixture
def emulator():
    """``emulator(rules, **emulator_kwargs)`` starts a ScriptedBackend emulator, stopped after the test."""
    started: list[Emulator] = []

    def start(rules, *, context_window: int | None = None, **kwargs) -> Emulator:
        options = {} if context_window is None else {"context_window": context_window}
        kwargs.setdefault("models", TEST_MODELS)
        emu = Emulator(ScriptedBackend(rules, **options), **kwargs).start()
        started.append(emu)
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def chat():
    """``chat(emu, model=MODEL, **kwargs)``: a real ChatGoogleGenerativeAI talking to ``emu``."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    def make(emu: Emulator, model: str = MODEL, **kwargs) -> ChatGoogleGenerativeAI:
        kwargs.setdefault("google_api_key", "emulator")
        return ChatGoogleGenerativeAI(model=model, base_url=emu.base_url, **kwargs)

    return make
