"""Runtime settings for one graph run (LangGraph `context_schema`): thresholds and where models live.

Unset thresholds fall back to the registry, so data stays in the registry and per-run tweaks stay here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Backend = Literal["auto", "gemini", "local", "scripted"]


@dataclass(kw_only=True)
class Context:
    draft_score_threshold: int | None = field(
        default=None,
        metadata={"description": "Judge score (1-10) at or above which a draft ships as is. Default: registry."},
    )
    confidence_threshold: float | None = field(
        default=None,
        metadata={"description": "Draft self-confidence (0-1) below which a moderate request escalates to "
                  "Pro. Default: registry."},
    )
    registry_path: str | None = field(
        default=None,
        metadata={"description": "A registry TOML merged over the packaged one. Default: $TIERWISE_REGISTRY "
                  "or ./tierwise.toml."},
    )
    backend: Backend = field(
        default="auto",
        metadata={"description": "auto: Gemini when GOOGLE_API_KEY/GEMINI_API_KEY is set, else the built-in "
                  "emulator with a local model (or scripted answers if none is installed)."},
    )
    base_url: str | None = field(
        default=None,
        metadata={"description": "A Gemini-compatible endpoint (e.g. a running `tierwise emulator`). "
                  "Overrides `backend`."},
    )
