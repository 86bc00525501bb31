"""A stage's settings, turned into what one catalogued model accepts.

A stage is written once (e.g. triage: thinking "minimal", temperature 0) but may run on any model: its tier's,
a fallback, a task type's promotion, a shadow call up a tier, a cap downgrade. Gemini answers 400 to settings a
model does not take, so every call's settings pass through `settings_for` first. Pure: no I/O, no registry.

Rules (each change is reported in `CallSettings.adjustments`):
- thinking level the model lacks → the lowest level it has at or above the one asked ("minimal" → its lowest),
  else its highest; a model without levels gets the level as a budget if it takes budgets, else nothing;
- thinking budget on a model without budgets → the level whose typical budget is nearest (`level_budgets`;
  ties go up; 0 → its lowest level; -1, dynamic → no level: the model's default); on a model with budgets a
  positive budget is clamped into its known range;
- temperature is not sent to a fixed-sampling model (it ignores sampling parameters), nor a temperature below a
  Gemini 3 model's default (1.0: Google's Gemini 3 prompting guide warns of looping and degraded reasoning below
  it) unless the stage opts in with `low_temperature = "why"`;
- max_output_tokens is clamped to the model's maximum;
- a service tier the model does not serve → standard (a cheaper or faster tier is a preference, not a
  requirement); a name that is no Gemini service tier at all is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from tierwise.errors import RegistryError

from .catalogue import BATCH_IS_NOT_A_SERVICE_TIER, SERVICE_TIERS, THINKING_LEVELS, ModelSpec

# Typical thinking tokens per level: used only to map a budget onto a level (and back) for models that take one
# kind only. The registry's [thinking] level_budgets says the same and wins.
DEFAULT_LEVEL_BUDGETS: dict[str, int] = {"minimal": 128, "low": 1024, "medium": 8192, "high": 24576}


class StageSettings(Protocol):
    """What `settings_for` reads from a stage (StageSpec has these fields)."""

    temperature: float
    max_output_tokens: int
    low_temperature: str

    @property
    def thinking_level(self) -> str | None: ...

    @property
    def thinking_budget(self) -> int | None: ...


@dataclass(frozen=True)
class CallSettings:
    """The generation settings one call sends: None means "not sent" (the model's own default)."""

    temperature: float | None
    max_output_tokens: int
    thinking_level: str | None
    thinking_budget: int | None
    service_tier: str
    adjustments: tuple[str, ...] = ()

    def chat_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ChatGoogleGenerativeAI (service_tier is a per-call option, not here)."""
        kwargs: dict[str, Any] = {"temperature": self.temperature, "max_output_tokens": self.max_output_tokens}
        if self.thinking_level is not None:
            kwargs["thinking_level"] = self.thinking_level
        elif self.thinking_budget is not None:
            kwargs["thinking_budget"] = self.thinking_budget
        return kwargs


def settings_for(
    model: ModelSpec,
    stage: StageSettings,
    service_tier: str = "standard",
    *,
    level_budgets: Mapping[Any, int] | None = None,
) -> CallSettings:
    """The stage's settings as `model` accepts them (see the module docstring for the rules)."""
    budgets = DEFAULT_LEVEL_BUDGETS if level_budgets is None else level_budgets
    notes: list[str] = []
    temperature: float | None = stage.temperature
    if not model.sampling:
        temperature = None
        notes.append("temperature not sent: fixed sampling")
    elif (model.default_temperature is not None and stage.temperature < model.default_temperature
          and not stage.low_temperature):
        temperature = None
        notes.append(f"temperature {stage.temperature:g} not sent: below the model's default "
                     f"{model.default_temperature:g} (Gemini 3 guide)")
    max_out = stage.max_output_tokens
    if max_out > model.max_output_tokens:
        notes.append(f"max_output_tokens {max_out} clamped to the model's {model.max_output_tokens}")
        max_out = model.max_output_tokens
    level, budget = _thinking(model, stage.thinking_level, stage.thinking_budget, budgets, notes)
    tier = _service_tier(model, service_tier, notes)
    return CallSettings(temperature, max_out, level, budget, tier, tuple(notes))


def _thinking(model: ModelSpec, level: str | None, budget: int | None, budgets: Mapping[str, int],
              notes: list[str]) -> tuple[str | None, int | None]:
    if level is not None and budget is not None:
        raise RegistryError("thinking_level and thinking_budget together: Gemini refuses both in one request")
    if level is not None:
        if level in model.thinking_levels:
            return level, None
        if model.thinking_levels:
            nearest = _level_at_or_above(model, level)
            notes.append(f"thinking level {level!r} → {nearest!r}: the model accepts {model.levels_low_to_high}")
            return nearest, None
        if model.thinking_budget:
            as_budget = _clamp_budget(model, budgets[level])
            notes.append(f"thinking level {level!r} → budget {as_budget}: the model takes budgets, not levels")
            return None, as_budget
        notes.append(f"thinking level {level!r} not sent: the model takes no thinking settings")
        return None, None
    if budget is not None:
        if model.thinking_budget:
            clamped = _clamp_budget(model, budget)
            if clamped != budget:
                notes.append(f"thinking budget {budget} clamped to {clamped}: the model's range")
            return None, clamped
        if model.thinking_levels:
            by_budget = _level_for_budget(model, budget, budgets)
            said = (f"thinking budget {budget} → level {by_budget!r}" if by_budget
                    else f"thinking budget {budget} dropped")
            notes.append(f"{said}: the model takes levels, not budgets")
            return by_budget, None
        notes.append(f"thinking budget {budget} not sent: the model takes no thinking settings")
    return None, None


def _level_at_or_above(model: ModelSpec, level: str) -> str:
    have = model.levels_low_to_high
    rank = THINKING_LEVELS.index(level)
    return next((ours for ours in have if THINKING_LEVELS.index(ours) >= rank), have[-1])


def _level_for_budget(model: ModelSpec, budget: int, budgets: Mapping[str, int]) -> str | None:
    have = model.levels_low_to_high
    if budget < 0:  # dynamic: the model's own default
        return None
    if budget == 0:  # off: as little thinking as the model allows
        return have[0]
    # Nearest typical budget; on a tie the higher level (later in the list) wins.
    return min(reversed(have), key=lambda lvl: abs(budgets[lvl] - budget))


def _clamp_budget(model: ModelSpec, budget: int) -> int:
    if budget <= 0:  # 0 (off) and -1 (dynamic) are not token counts
        return budget
    if model.thinking_budget_min is not None:
        budget = max(budget, model.thinking_budget_min)
    if model.thinking_budget_max is not None:
        budget = min(budget, model.thinking_budget_max)
    return budget


def _service_tier(model: ModelSpec, tier: str, notes: list[str]) -> str:
    if tier == "batch":
        raise RegistryError(BATCH_IS_NOT_A_SERVICE_TIER)
    if tier not in SERVICE_TIERS:
        raise RegistryError(f"unknown service tier {tier!r} (known: {list(SERVICE_TIERS)})")
    if tier not in model.service_tiers:
        notes.append(f"service tier {tier!r} → 'standard': the model serves {model.service_tiers}")
        return "standard"
    return tier


def check_call(model: ModelSpec, settings: CallSettings) -> list[str]:
    """What in `settings` the model would refuse (empty: it accepts all). Tests and the emulator use it."""
    problems = []
    if settings.thinking_level is not None and settings.thinking_budget is not None:
        problems.append("thinking_level and thinking_budget together")
    if settings.thinking_level is not None and settings.thinking_level not in model.thinking_levels:
        problems.append(f"thinking level {settings.thinking_level!r} not in {model.thinking_levels}")
    if settings.thinking_budget is not None:
        if not model.thinking_budget:
            problems.append("a thinking budget, which the model does not take")
        elif settings.thinking_budget > 0 and _clamp_budget(model, settings.thinking_budget) != (
                settings.thinking_budget):
            problems.append(f"thinking budget {settings.thinking_budget} outside the model's range")
    if settings.max_output_tokens > model.max_output_tokens:
        problems.append(f"max_output_tokens {settings.max_output_tokens} > {model.max_output_tokens}")
    if settings.service_tier not in model.service_tiers:
        problems.append(f"service tier {settings.service_tier!r} not in {model.service_tiers}")
    return problems
