"""The model catalogue's shape: what each Gemini model accepts and what it costs, validated.

The call path sends each model only what it accepts (see `capabilities.settings_for`) and the emulator refuses,
as Gemini does, what a model does not accept; both read these records, so a new model is one data edit.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PositiveInt, Strict, model_validator

ThinkingLevel = Literal["minimal", "low", "medium", "high"]
# Lowest to highest: "minimal" on a model without it becomes the lowest level the model has.
# USD per 1M tokens: finite, and a typo like 1e9 is refused rather than billed.
Rate = Annotated[float, Field(ge=0.0, le=10_000.0)]


def _a_day(value: Any) -> Any:
    """A date is a date: a TOML date-time (2027-01-01T00:00:00) or a time-stamped string is refused, not cut."""
    if isinstance(value, datetime) or (isinstance(value, str) and len(value.strip()) > 10):
        raise ValueError(f"a date is YYYY-MM-DD (e.g. 2027-01-01), got the date-time {value!s}; drop the time")
    return value


# A calendar day: a date from TOML or an ISO string from Python (strict mode would refuse the string).
Day = Annotated[date, Strict(False), BeforeValidator(_a_day)]
THINKING_LEVELS: tuple[str, ...] = ("minimal", "low", "medium", "high")
Modality = Literal["text", "image", "audio", "video", "pdf"]
# The values of a request's `serviceTier`. Batch is not one: the Batch API is a separate asynchronous API.
ServiceTier = Literal["standard", "flex", "priority"]
SERVICE_TIERS: tuple[str, ...] = ("standard", "flex", "priority")
BATCH_IS_NOT_A_SERVICE_TIER = (
    "'batch' is not a service tier: Gemini's serviceTier is standard, flex or priority "
    "(the Batch API is a separate asynchronous API)"
)


class _Strict(BaseModel):
    # Unknown keys are typos far more often than features: refuse them. Numbers must be finite: `inf` as a
    # price or limit turns spend into NaN/Infinity. Strict types: `true` is not a price of 1.0, "3" is not 3.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


class TierRates(_Strict):
    """A service tier's own listed rates (USD per 1M tokens), where genai-prices or the registry has them."""

    input: Rate
    output: Rate
    cached_input: Rate | None = None
    input_audio: Rate | None = None
    cached_input_audio: Rate | None = None


class Price(_Strict):
    """Prices in USD per 1M tokens, valid from `effective` until the next entry's date."""

    effective: Day
    input: Rate
    output: Rate = Field(description="Output tokens, thinking tokens included.")
    cached_input: Rate | None = None
    long_context_threshold: PositiveInt | None = Field(
        default=None, description="Prompt tokens above which the whole request is billed at the long rates."
    )
    long_input: Rate | None = None
    long_output: Rate | None = None
    long_cached_input: Rate | None = None
    input_audio: Rate | None = Field(default=None, description="Audio input tokens; unset: the input rate.")
    cached_input_audio: Rate | None = Field(default=None, description="Cached audio input; unset: the cached rate.")
    search_per_1k: Annotated[float, Field(ge=0.0, le=10_000.0)] | None = Field(
        default=None, description="USD per 1,000 Google Search grounding queries (billed per query the model ran).")
    service_tier_rates: dict[ServiceTier, TierRates] = Field(
        default_factory=dict, description="Listed flex/priority rates; a tier not here is the standard price times "
        "the registry's [service_tiers] multiplier.")
    source: str = Field(default="registry", description="Where this price comes from (shown by `tierwise tiers`).")

    @model_validator(mode="after")
    def _long_rates_complete(self) -> Price:
        if self.long_context_threshold is not None and (self.long_input is None or self.long_output is None):
            raise ValueError("long_context_threshold needs long_input and long_output")
        return self


class ModelSpec(_Strict):
    """One model of the catalogue: its tier, limits, what it accepts, and its effective-dated prices."""

    tier: str | None = Field(default=None, description="The tier it belongs to; None: usable as a tier's model, "
                             "not as a fallback (a fallback's rank needs a tier).")
    family: str | None = Field(default=None, description="The [families] entry it was derived from, if any.")
    context_window: PositiveInt = Field(description="Most prompt tokens it takes (inputTokenLimit).")
    max_output_tokens: PositiveInt = Field(
        default=65_536, description="Most output tokens, thinking included (outputTokenLimit, apart from the window)."
    )
    input_modalities: list[Modality] = Field(default_factory=lambda: list[Modality](["text"]), min_length=1)
    thinking_levels: list[ThinkingLevel] = Field(
        default_factory=list, description="The thinkingLevel values it accepts; empty: none."
    )
    default_thinking_level: ThinkingLevel | None = Field(
        default=None, description="What it uses when a request names no level."
    )
    thinking_budget: bool = Field(default=False, description="It accepts thinkingConfig.thinkingBudget.")
    thinking_budget_min: int | None = Field(default=None, ge=0, description="Smallest budget > 0 it accepts.")
    thinking_budget_max: PositiveInt | None = Field(default=None, description="Largest budget it accepts.")
    sampling: bool = Field(
        default=True, description="It honours temperature/topP/topK; false (fixed sampling, Gemini 3.5 Flash-Lite, "
        "3.6 Flash and later): it ignores them, refuses presence/frequency penalties and a trailing model turn; "
        "tierwise sends it no sampling parameters."
    )
    default_temperature: float | None = Field(
        default=None, ge=0.0, le=2.0, description="Its default temperature where Google advises not to go below it "
        "(Gemini 3: 1.0, per the Gemini 3 prompting guide); a stage's lower temperature is then not sent unless the "
        "stage opts in with `low_temperature`. None: no such advice.")
    grounding_billed_per: Literal["query", "prompt"] = Field(
        default="query", description="Google Search grounding is billed per search query the model ran (Gemini 3) "
        "or per grounded prompt (Gemini 2.5), at the price entry's search_per_1k.")
    function_call_signatures: bool | None = Field(
        default=None,
        description="It refuses (400) a request whose current turn sends back a model step's first functionCall "
        "part without its thoughtSignature (Gemini 3; Gemini 3 Pro Image does not). Unset: true for models with "
        "thinking levels (Gemini 3), false for the others.",
    )
    service_tiers: list[ServiceTier] = Field(default_factory=lambda: list[ServiceTier](["standard"]), min_length=1)
    min_cache_tokens: PositiveInt | None = Field(
        default=None, description="Smallest explicit context cache it accepts (tokens); unset: it takes none."
    )
    cache_storage: float | None = Field(
        default=None, ge=0, description="Explicit cache storage, USD per 1M tokens per hour (genai-prices has none)."
    )
    cache_storage_source: str = Field(default="", description="Where `cache_storage` comes from.")
    shutdown: Day | None = None
    replacement: str | None = None
    prices: list[Price] = Field(
        default_factory=list, description="Registry price entries (overrides); the rest come from genai-prices."
    )

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, data: Any) -> Any:
        """`fixed_sampling = true` (the registry's older key) reads as `sampling = false`; batch is refused."""
        if isinstance(data, dict):
            if "fixed_sampling" in data:
                data = dict(data)
                fixed = data.pop("fixed_sampling")
                if not isinstance(fixed, bool):
                    raise ValueError("fixed_sampling must be true or false (better: sampling = true/false)")
                if data.setdefault("sampling", not fixed) is fixed:
                    raise ValueError("fixed_sampling and sampling disagree; keep only `sampling`")
            if "batch" in (data.get("service_tiers") or []):
                raise ValueError(f"service_tiers: {BATCH_IS_NOT_A_SERVICE_TIER}")
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ModelSpec:
        problems = []
        if len(set(self.thinking_levels)) != len(self.thinking_levels):
            problems.append("thinking_levels: a level is listed twice")
        if self.default_thinking_level is not None and self.default_thinking_level not in self.thinking_levels:
            problems.append(f"default_thinking_level: {self.default_thinking_level!r} is not in thinking_levels "
                            f"{self.thinking_levels}")
        if self.thinking_levels and self.default_thinking_level is None:
            problems.append("default_thinking_level: needed when thinking_levels is set")
        low, high = self.thinking_budget_min, self.thinking_budget_max
        if not self.thinking_budget and (low is not None or high is not None):
            problems.append("thinking_budget_min/max: only for a model with thinking_budget = true")
        if low is not None and high is not None and low > high:
            problems.append("thinking_budget_min: greater than thinking_budget_max")
        if "standard" not in self.service_tiers:
            problems.append("service_tiers: must include standard")
        if "text" not in self.input_modalities:
            problems.append("input_modalities: must include text")
        days = [p.effective for p in self.prices]
        if len(set(days)) != len(days):
            problems.append("prices: two price entries share one effective date")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def fixed_sampling(self) -> bool:
        """The older name: True when the model ignores temperature/top_p/top_k (they are not sent)."""
        return not self.sampling

    @property
    def enforces_function_call_signatures(self) -> bool:
        """Whether Gemini refuses this model's current turn when a function call comes back unsigned."""
        if self.function_call_signatures is not None:
            return self.function_call_signatures
        return bool(self.thinking_levels)

    @property
    def levels_low_to_high(self) -> list[str]:
        return [level for level in THINKING_LEVELS if level in self.thinking_levels]

    def price_on(self, day: date) -> Price:
        """The price in force on `day`: the latest entry that took effect on or before it."""
        if not self.prices:
            raise ValueError("no price known for this model (not in genai-prices and no registry price)")
        if len(self.prices) == 1:  # the usual case, and what the rule below gives for one entry (priced per call)
            return self.prices[0]
        valid = [p for p in self.prices if p.effective <= day]
        # A call dated before the first known price is billed at the earliest price we know.
        return max(valid, key=lambda p: p.effective) if valid else min(self.prices, key=lambda p: p.effective)

