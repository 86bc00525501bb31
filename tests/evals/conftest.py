"""Evals fixtures: a scripted emulator where the tiers differ in quality in a known way per task type.

Task type A: every tier answers right. Task type B: lite and flash answer wrong, pro answers right.
Task type C: like A (every tier right). The judge scores a WRONG answer 2/10 and any other 9/10.
"""

from __future__ import annotations

import pytest

LITE, FLASH, PRO = "gemini-3.5-flash-lite", "gemini-3.8-flash", "gemini-3.1-pro-preview"
RIGHT = {"answer": "RIGHT", "confidence": "high"}
WRONG = {"answer": "WRONG", "confidence": "high"}
DRAFT = "answer requests briefly"
JUDGE = "grade an answer"


def rules(*, pro_delay_ms: float = 0, pro_error: int | None = None):
    """Judge rules first (their prompt quotes the request), then draft answers per model and task type."""
    pro = {"model": PRO, "system": DRAFT, "reply": RIGHT, "delay_ms": pro_delay_ms}
    if pro_error is not None:
        pro = {"model": PRO, "system": DRAFT, "error": pro_error}
    return [
        {"system": JUDGE, "user": r"Answer to grade:\s*WRONG", "reply": {"score": 2, "reason": "wrong"}},
        {"system": JUDGE, "reply": {"score": 9, "reason": "right"}},
        pro,
        {"system": DRAFT, "user": "TYPE-B", "reply": WRONG},
        {"system": DRAFT, "reply": RIGHT},
    ]


class _DefaultShadow:
    """The shadow traffic of the runtime these tests' calls run on (the convenience default)."""

    def __getattr__(self, name):
        import tierwise

        return getattr(tierwise.default_runtime().shadow, name)


shadow = _DefaultShadow()


@pytest.fixture
def registry_file(tmp_path):
    """registry_file(toml_text) → path of a user registry file holding it."""
    count = [0]

    def write(text: str) -> str:
        count[0] += 1
        path = tmp_path / f"registry-{count[0]}.toml"
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


@pytest.fixture(autouse=True)
def _no_pending_shadow_work():
    """Every test starts and ends with no shadow sample in flight and fresh counts."""
    import tierwise

    tierwise.default_runtime().shadow.stats(reset=True)
    yield
    shadow = tierwise.default_runtime().shadow
    assert shadow.drain(30), "shadow work still pending after the test"
    shadow.stats(reset=True)


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger.db"  # the file tests/conftest.py points TIERWISE_LEDGER_URL at
