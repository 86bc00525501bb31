"""Shared fixtures: a scripted Gemini emulator on loopback, reached through the real ChatGoogleGenerativeAI."""

from __future__ import annotations

import pytest

from tierwise import Context
from tierwise.emulator import Emulator, ScriptedBackend

# Fragments of each node's system prompt (tierwise/prompts/*.md) that scripted rules match on.
TRIAGE, EXTRACT, DRAFT = "triage step", "extract structured data", "answer requests briefly"
JUDGE, POLISH, REASON = "grade an answer", "You get a request and a draft", "reasoning step"


def pipeline_rules(*, triage, draft=None, judge=None, polish="Polished final answer.", reason="Reasoned answer.",
                   extract=None, thoughts=0):
    """One rule per stage; Pro stages report `thoughts` thinking tokens."""
    rules = [{"system": TRIAGE, "reply": triage}]
    if extract is not None:
        rules.append({"system": EXTRACT, "reply": extract})
    if draft is not None:
        rules.append({"system": DRAFT, "reply": draft})
    if judge is not None:
        rules.append({"system": JUDGE, "reply": judge})
    rules.append({"system": POLISH, "reply": polish, "thoughts": thoughts})
    rules.append({"system": REASON, "reply": reason, "thoughts": thoughts})
    return rules


@pytest.fixture
def scripted():
    """Start an emulator with the given rules; returns (emulator, context pointing at it)."""
    started = []

    def start(rules):
        emulator = Emulator(ScriptedBackend(rules))
        emulator.start()
        started.append(emulator)
        return emulator, Context(base_url=emulator.base_url)

    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture(autouse=True)
def _no_real_gemini(monkeypatch, tmp_path):
    """Tests never reach Google: no key in the environment, no stray ./tierwise.toml or overrides."""
    for name in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "TIERWISE_REGISTRY"):
        monkeypatch.delenv(name, raising=False)
    import os

    for name in list(os.environ):
        if name.startswith("TIERWISE__"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
