"""Shared fixtures: a scripted Gemini emulator on loopback, reached through the real ChatGoogleGenerativeAI.

Tests import public names (`from tierwise.ledger import open_ledger`), not modules below a package's `__init__`;
the exception is the sans-IO core (pure functions in calls/, pricing, the strict parsers, routing math) and a few
internals unit-tested in one file. test_public_surface.py holds both lists and fails on a new deep import."""

from __future__ import annotations

import pytest

from tierwise import Context
from tierwise.emulator import Emulator, ScriptedBackend


@pytest.fixture
def scripted():
    """Start an emulator with the given rules; returns (emulator, context pointing at it)."""
    started = []

    def start(rules, faults=None, **emulator_options):
        """`faults`: a list of tierwise.emulator.Fault; `emulator_options`: e.g. context_windows=..."""
        from tierwise.emulator import Faults

        emulator = Emulator(ScriptedBackend(rules), faults=Faults(faults or []), **emulator_options)
        emulator.start()
        started.append(emulator)
        return emulator, Context(base_url=emulator.base_url)

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture
def llm_triage(monkeypatch):
    """Route with LLM triage (`[router] strategy = "llm"`), not the default pre-router: for tests that script the
    triage stage's answer to choose a route (and subprocesses they start: it is an environment override)."""
    monkeypatch.setenv("TIERWISE__ROUTER__STRATEGY", "llm")


@pytest.fixture(autouse=True)
def _no_real_gemini(monkeypatch, tmp_path):
    """Tests never reach Google: no key in the environment, no stray ./tierwise.toml or overrides."""
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "TIERWISE_REGISTRY", "TIERWISE_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("TIERWISE__"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TIERWISE_LEDGER_URL", f"sqlite:///{tmp_path}/ledger.db")  # never the user's own ledger
    from tierwise.runtime import reset_default_runtime

    reset_default_runtime()  # each test starts on a fresh convenience runtime: no cooldowns, caches or ledgers
    yield
    reset_default_runtime()
