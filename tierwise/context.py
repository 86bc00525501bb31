"""Runtime settings for one graph run (LangGraph `context_schema`): thresholds and where models live.

Unset thresholds fall back to the registry, so data stays in the registry and per-run tweaks stay here.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, get_args

from typing_extensions import TypeIs

from tierwise.errors import InvalidArgumentError, InvalidInputError
from tierwise.strict import url_problem

Backend = Literal["auto", "gemini", "vertex", "local", "scripted"]


def is_backend(name: object) -> TypeIs[Backend]:
    """Whether `name` is a backend Context accepts (a CLI option's text, say)."""
    return name in get_args(Backend)


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
                  "emulator with a local model (or scripted answers if none is installed). vertex: Vertex AI "
                  "(GOOGLE_CLOUD_PROJECT + GOOGLE_CLOUD_LOCATION with Application Default Credentials, or an "
                  "express-mode key)."},
    )
    base_url: str | None = field(
        default=None,
        metadata={"description": "A Gemini-compatible endpoint (e.g. a running `tierwise emulator`). "
                  "Overrides `backend`. It is sent the placeholder key 'emulator', never the server's API key, "
                  "unless the operator configured it (--base-url, $TIERWISE_BASE_URL, [endpoint] base_url)."},
    )

    def __post_init__(self) -> None:
        """Refuse bad settings up front, in the caller's terms (LangGraph builds this from Studio/SDK dicts too)."""
        score = self.draft_score_threshold
        if score is not None and (isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 10):
            raise InvalidInputError(f"draft_score_threshold must be a whole number from 1 to 10, got {score!r}")
        conf = self.confidence_threshold
        if conf is not None and (isinstance(conf, bool) or not isinstance(conf, int | float) or not 0 <= conf <= 1):
            raise InvalidInputError(f"confidence_threshold must be a number from 0 to 1, got {conf!r}")
        if not is_backend(self.backend):
            raise InvalidInputError(f"backend must be one of {', '.join(get_args(Backend))}, got {self.backend!r}")
        for name in ("registry_path", "base_url"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{name} must be text (str), got {type(value).__name__}")
        problem = url_problem(self.base_url) if self.base_url is not None else None
        if problem:
            raise InvalidInputError(f"base_url {problem}")


SETTINGS = tuple(f.name for f in fields(Context))
_dataclass_init = Context.__init__


def _init(self: Context, *args: Any, **settings: Any) -> None:
    """The dataclass's own __init__, after naming any setting it does not have (a typo in a dict that LangGraph
    or a caller turns into a Context would otherwise be a bare TypeError)."""
    if args:
        raise InvalidArgumentError(f"context settings are given by name (Context(backend=...)), got {len(args)} "
                                   "positional argument(s)")
    for name in settings:
        if name not in SETTINGS:
            close = difflib.get_close_matches(str(name), SETTINGS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise InvalidArgumentError(f"context has no setting {name!r}; {hint}known: {', '.join(SETTINGS)}")
    _dataclass_init(self, **settings)


Context.__init__ = _init  # type: ignore[method-assign]


def coerce_context(value: Any, name: str = "context") -> Context:
    """A Context from what a caller passed: a Context, a mapping of its settings, or None (the defaults)."""
    if value is None:
        return Context()
    if isinstance(value, Context):
        return value
    if isinstance(value, Mapping):
        odd = next((key for key in value if not isinstance(key, str)), None)
        if odd is not None:
            raise InvalidArgumentError(f"{name}: setting names are text, got {odd!r}")
        return Context(**value)
    raise InvalidArgumentError(f"{name} must be a tierwise.Context or a dict of its settings ({', '.join(SETTINGS)}),"
                               f" got {type(value).__name__}")
