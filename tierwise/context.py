"""Runtime settings for one graph run (LangGraph `context_schema`): thresholds and where models live.

Unset thresholds fall back to the registry, so data stays in the registry and per-run tweaks stay here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

from tierwise.errors import InvalidInputError

Backend = Literal["auto", "gemini", "local", "scripted"]


@dataclass(kw_only=True)
class Context:
    """Settings for one run: where the models live and the escalation thresholds (unset: the registry's)."""

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

    def __post_init__(self) -> None:
        """Refuse bad settings up front, in the caller's terms (LangGraph builds this from Studio/SDK dicts too)."""
        score = self.draft_score_threshold
        if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 10):
            raise InvalidInputError(f"draft_score_threshold must be a whole number from 1 to 10, got {score!r}")
        conf = self.confidence_threshold
        if conf is not None and (isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1):
            raise InvalidInputError(f"confidence_threshold must be a number from 0 to 1, got {conf!r}")
        if self.backend not in get_args(Backend):
            raise InvalidInputError(f"backend must be one of {', '.join(get_args(Backend))}, got {self.backend!r}")
        for name in ("registry_path", "base_url"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{name} must be text (str), got {type(value).__name__}")
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise InvalidInputError(f"base_url must start with http:// or https://, got {self.base_url!r}")
