"""Shared fixtures: the vendored RouteLLM subset and synthetic N-model outcome tables the router never saw."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # allow running the tests without installing the package
    sys.path.insert(0, str(REPO))

DATA = REPO / "tests" / "data" / "routing"

from .synth import synthetic_rows, write_csv  # noqa: E402


@pytest.fixture
def mmlu_subset() -> Path:
    return DATA / "routellm_mmlu_subset.csv"


@pytest.fixture
def gsm8k_subset() -> Path:
    return DATA / "routellm_gsm8k_subset.csv"


@pytest.fixture
def synthetic(tmp_path: Path):
    """Factory: synthetic(n, seed, drafts=False, name=...) → path of a fresh CSV outcome table."""

    def make(n: int = 300, seed: int = 1, drafts: bool = False, name: str | None = None) -> Path:
        return write_csv(tmp_path / (name or f"synthetic-{seed}.csv"), synthetic_rows(n, seed, drafts))

    return make
