"""What each model accepts, as the strict emulator enforces it: read from the registry's model catalogue.

The registry (``tierwise.tiers``) is the one place a model's limits live; this module only turns a
catalogue entry into the few facts the emulator checks, so a new model is one data edit. Tests and
users pointing odd clients at the emulator can add or override models with ``Emulator(models=...)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MODALITIES = ("TEXT", "IMAGE", "AUDIO", "VIDEO", "DOCUMENT")
SERVICE_TIERS = ("standard", "flex", "priority")
_MODALITY_BY_MIME = (("image/", "IMAGE"), ("audio/", "AUDIO"), ("video/", "VIDEO"), ("text/", "TEXT"))


def modality_of(mime_type: str) -> str:
    """The ``promptTokensDetails`` modality of a MIME type (PDFs and other files count as DOCUMENT)."""
    mime = mime_type.lower()
    return next((m for prefix, m in _MODALITY_BY_MIME if mime.startswith(prefix)), "DOCUMENT")


@dataclass(frozen=True)
class ModelLimits:
    """The request limits of one model.

    ``thinking_levels`` (lower case) empty means the model takes no ``thinkingLevel`` (pre-Gemini 3);
    models that take levels answer with a ``thoughtSignature`` (on the last part, or the first function call).
    ``sampling`` False (fixed sampling): the model ignores ``temperature`` / ``topP`` / ``topK`` and refuses
    presence/frequency penalties and a request ending with a model turn (Gemini 3.5 Flash-Lite's model page).
    ``input_modalities`` are ``promptTokensDetails`` names (TEXT, IMAGE, AUDIO, VIDEO, DOCUMENT).
    ``function_call_signatures``: the model refuses (400) a request whose current turn sends a model step's
    first ``functionCall`` part back without its ``thoughtSignature``; unset (None), models with thinking
    levels (Gemini 3) do and the others (2.5) do not (see :attr:`enforces_function_call_signatures`).
    """

    name: str
    max_output_tokens: int = 65_536
    context_window: int = 1_048_576
    thinking_levels: tuple[str, ...] = ()
    default_thinking_level: str | None = None
    thinking_budget: bool = True
    thinking_budget_min: int | None = None
    thinking_budget_max: int | None = None
    sampling: bool = True
    input_modalities: frozenset[str] = field(default_factory=lambda: frozenset(MODALITIES))
    service_tiers: tuple[str, ...] = SERVICE_TIERS
    function_call_signatures: bool | None = None
    min_cache_tokens: int | None = None  # smallest explicit cache (cachedContents) it accepts; None: any size

    @property
    def thought_signatures(self) -> bool:
        """The model's answers carry a ``thoughtSignature`` (Gemini 3)."""
        return bool(self.thinking_levels)

    @property
    def enforces_function_call_signatures(self) -> bool:
        """Current-turn function calls must come back signed (Gemini 3, unless the entry says otherwise)."""
        if self.function_call_signatures is not None:
            return self.function_call_signatures
        return self.thought_signatures


def limits_from_spec(name: str, spec: Any) -> ModelLimits:
    """A :class:`ModelLimits` from a registry ``ModelSpec`` (``tierwise.tiers``; modality ``pdf`` is DOCUMENT)."""
    modalities = {"PDF": "DOCUMENT"}
    return ModelLimits(
        name=name,
        max_output_tokens=spec.max_output_tokens,
        context_window=spec.context_window,
        thinking_levels=tuple(spec.thinking_levels),
        default_thinking_level=spec.default_thinking_level,
        thinking_budget=spec.thinking_budget,
        thinking_budget_min=spec.thinking_budget_min,
        thinking_budget_max=spec.thinking_budget_max,
        sampling=spec.sampling,
        input_modalities=frozenset(modalities.get(m.upper(), m.upper()) for m in spec.input_modalities),
        service_tiers=tuple(spec.service_tiers),
        function_call_signatures=spec.enforces_function_call_signatures,
        min_cache_tokens=spec.min_cache_tokens,
    )


def registry_models() -> dict[str, ModelLimits]:
    """Every model of the registry in force (packaged file, user file, environment overrides)."""
    from tierwise.tiers import load_registry

    return {name: limits_from_spec(name, spec) for name, spec in load_registry().data.models.items()}


def build_catalogue(models: Mapping[str, ModelLimits | Mapping[str, Any]] | Iterable[ModelLimits] | None = None,
                    *, registry: bool = True) -> dict[str, ModelLimits]:
    """The registry's models (if ``registry``) with ``models`` added over them.

    ``models`` maps ids to :class:`ModelLimits` or to dicts of its fields (e.g. ``{"sampling": False}``),
    or is a list of :class:`ModelLimits`.
    """
    catalogue = registry_models() if registry else {}
    if models is None:
        return catalogue
    if not isinstance(models, Mapping):
        models = {m.name: m for m in models}
    for name, limits in models.items():
        if isinstance(limits, ModelLimits):
            catalogue[name] = limits
        elif isinstance(limits, Mapping):
            fields = dict(limits)
            for key in ("thinking_levels", "service_tiers"):
                if key in fields:
                    fields[key] = tuple(str(v).lower() for v in fields[key])
            if "input_modalities" in fields:
                fields["input_modalities"] = frozenset(str(v).upper() for v in fields["input_modalities"])
            catalogue[name] = ModelLimits(name=name, **fields)
        else:
            raise TypeError(f"models[{name!r}] must be a ModelLimits or a mapping of its fields")
    return catalogue
