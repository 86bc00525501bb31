"""The registry's shape, validated with pydantic so a bad file fails with the key and the reason."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveFloat, PositiveInt, model_validator

ThinkingLevel = Literal["minimal", "low", "medium", "high"]
RouteName = Literal["simple", "moderate", "complex", "extract"]
# Service tier → multiplier on the standard price (Gemini: Flex and Batch are half price).
DEFAULT_SERVICE_TIERS: dict[str, float] = {"standard": 1.0, "flex": 0.5, "batch": 0.5}


class _Strict(BaseModel):
    # Unknown keys are typos far more often than features: refuse them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Price(_Strict):
    """Prices in USD per 1M tokens, valid from `effective` until the next entry's date."""

    effective: date
    input: NonNegativeFloat
    output: NonNegativeFloat = Field(description="Output tokens, thinking tokens included.")
    cached_input: NonNegativeFloat | None = None
    long_context_threshold: PositiveInt | None = Field(
        default=None, description="Prompt tokens above which the whole request is billed at the long rates."
    )
    long_input: NonNegativeFloat | None = None
    long_output: NonNegativeFloat | None = None
    long_cached_input: NonNegativeFloat | None = None

    @model_validator(mode="after")
    def _long_rates_complete(self) -> Price:
        if self.long_context_threshold is not None and (self.long_input is None or self.long_output is None):
            raise ValueError("long_context_threshold needs long_input and long_output")
        return self


class ModelSpec(_Strict):
    tier: str
    context_window: PositiveInt
    shutdown: date | None = None
    replacement: str | None = None
    fixed_sampling: bool = Field(
        default=False, description="The model ignores temperature/top_p/top_k: tierwise does not send them."
    )
    prices: list[Price] = Field(min_length=1)

    @model_validator(mode="after")
    def _dates_distinct(self) -> ModelSpec:
        days = [p.effective for p in self.prices]
        if len(set(days)) != len(days):
            raise ValueError("two price entries share one effective date")
        return self

    def price_on(self, day: date) -> Price:
        """The price in force on `day`: the latest entry that took effect on or before it."""
        valid = [p for p in self.prices if p.effective <= day]
        # A call dated before the first known price is billed at the earliest price we know.
        return max(valid, key=lambda p: p.effective) if valid else min(self.prices, key=lambda p: p.effective)


class TierSpec(_Strict):
    model: str
    description: str = ""


class StageSpec(_Strict):
    tier: str
    description: str = ""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    max_output_tokens: PositiveInt = 1024
    thinking_level: ThinkingLevel | None = None
    thinking_budget: int | None = Field(default=None, ge=-1)
    critical: bool = Field(default=False, description="Readers see its text: never downgraded.")
    fallbacks: list[str] = Field(default_factory=list)
    timeout_s: PositiveFloat = Field(default=60.0, description="One attempt's time limit.")


class Thresholds(_Strict):
    draft_score: int = Field(default=7, ge=1, le=10)
    confidence: float = Field(default=0.5, ge=0.0, le=1.0)


class Routing(_Strict):
    simple_max_complexity: int = Field(default=2, ge=1, le=5)
    moderate_max_complexity: int = Field(default=3, ge=1, le=5)
    on_unusable_triage: RouteName = "simple"

    @model_validator(mode="after")
    def _ordered(self) -> Routing:
        if self.moderate_max_complexity < self.simple_max_complexity:
            raise ValueError("moderate_max_complexity must be >= simple_max_complexity")
        return self


class Router(_Strict):
    """How triage decides: `llm` (the triage stage on Lite), `learned` (a pre-router trained on outcome data: no
    API call), or `hybrid` (the learned router when it is confident enough, LLM triage otherwise)."""

    strategy: Literal["llm", "learned", "hybrid"] = "llm"
    model_path: str = Field(default="", description="Router file from `tierwise router train`; relative paths "
                            "are read from the user registry file's folder.")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0, description="Quality/cost trade-off (from calibrate).")
    hybrid_confidence: float = Field(
        default=0.75, ge=0.0, le=1.0, description="hybrid: the learned router decides when its predicted quality "
        "for the model it picks is at least this."
    )

    @model_validator(mode="after")
    def _needs_model(self) -> Router:
        if self.strategy != "llm" and not self.model_path:
            raise ValueError(f"strategy {self.strategy!r} needs model_path (train one with `tierwise router train`)")
        return self


class Budget(_Strict):
    """Spend caps in USD per UTC day/month. Unset: no cap. Soft caps downgrade non-critical stages; hard caps
    refuse new calls."""

    daily_usd: PositiveFloat | None = None
    monthly_usd: PositiveFloat | None = None
    hard_daily_usd: PositiveFloat | None = None
    hard_monthly_usd: PositiveFloat | None = None
    per_task_type: dict[str, PositiveFloat] = Field(default_factory=dict, description="Soft daily caps.")
    service_tier_when_capped: str | None = Field(
        default=None, description="A cheaper service tier (e.g. flex) for non-critical stages past a soft cap."
    )
    downgrade_when_capped: bool = Field(
        default=True, description="Past a soft cap, move non-critical stages to the cheapest tier."
    )

    @property
    def any_cap(self) -> bool:
        caps = (self.daily_usd, self.monthly_usd, self.hard_daily_usd, self.hard_monthly_usd)
        return any(c is not None for c in caps) or bool(self.per_task_type)


class LedgerSettings(_Strict):
    enabled: bool = Field(default=True, description="Persist every call record (needed for spend caps and reports).")
    url: str = Field(default="", description="Empty: SQLite in the user's data dir; or sqlite:///… / postgresql://…")
    store_prompts: bool = Field(default=False, description="Store prompt text; otherwise only its sha256.")


class Resilience(_Strict):
    """Retries, waits and cooldowns of the call path (see tierwise/calls/path.py)."""

    max_attempts: PositiveInt = Field(default=3, description="Attempts per model before the next in the chain.")
    base_delay_s: NonNegativeFloat = 0.5
    max_delay_s: NonNegativeFloat = 8.0
    max_wait_s: NonNegativeFloat = Field(
        default=30.0, description="The longest Retry-After honoured on one model before moving down the chain."
    )
    request_budget_s: PositiveFloat = Field(default=180.0, description="All attempts of one stage call, in total.")
    cooldown_failures: PositiveInt = Field(default=5, description="Failures within the window that cool a model.")
    cooldown_window_s: PositiveFloat = 30.0
    cooldown_s: PositiveFloat = Field(default=20.0, description="How long a cooled model is skipped before a probe.")


class RegistryData(_Strict):
    """The merged registry document. Cross-references are checked here, naming the offending key."""

    source: str = ""
    tier_order: list[str] = Field(min_length=1)
    tiers: dict[str, TierSpec]
    models: dict[str, ModelSpec]
    stages: dict[str, StageSpec]
    thresholds: Thresholds = Thresholds()
    routing: Routing = Routing()
    router: Router = Router()
    service_tiers: dict[str, PositiveFloat] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_TIERS))
    budget: Budget = Budget()
    resilience: Resilience = Resilience()
    ledger: LedgerSettings = LedgerSettings()

    @model_validator(mode="after")
    def _references(self) -> RegistryData:
        problems: list[str] = []
        if self.service_tiers.get("standard") != 1.0:
            problems.append("service_tiers.standard: must be 1.0 (the list price the others are relative to)")
        wanted = self.budget.service_tier_when_capped
        if wanted is not None and wanted not in self.service_tiers:
            known = sorted(self.service_tiers)
            problems.append(f"budget.service_tier_when_capped: unknown service tier {wanted!r} (known: {known})")
        if sorted(self.tier_order) != sorted(self.tiers):
            problems.append(
                f"tier_order: lists {self.tier_order} but [tiers] declares {sorted(self.tiers)}; they must match"
            )
        for name, tier in self.tiers.items():
            if tier.model not in self.models:
                problems.append(f"tiers.{name}.model: unknown model {tier.model!r} (declare it under [models])")
        for model_id, model in self.models.items():
            if model.tier not in self.tiers:
                problems.append(f"models.{model_id}.tier: unknown tier {model.tier!r} (known: {self.tier_order})")
            if model.replacement is not None and model.replacement not in self.models:
                problems.append(f"models.{model_id}.replacement: unknown model {model.replacement!r}")
        for name, stage in self.stages.items():
            if stage.tier not in self.tiers:
                problems.append(f"stages.{name}.tier: unknown tier {stage.tier!r} (known: {self.tier_order})")
                continue
            for i, target in enumerate(stage.fallbacks):
                key = f"stages.{name}.fallbacks[{i}]"
                if target not in self.tiers and target not in self.models:
                    problems.append(f"{key}: {target!r} is neither a tier nor a model id")
                elif stage.critical and self.rank(self.tier_of(target)) < self.rank(stage.tier):
                    problems.append(
                        f"{key}: {target!r} is below the stage's tier {stage.tier!r}; "
                        "a critical stage never falls back to a lower tier"
                    )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def rank(self, tier: str) -> int:
        return self.tier_order.index(tier)

    def tier_of(self, target: str) -> str:
        """The tier of a fallback target, which may name a tier or a model id."""
        return target if target in self.tiers else self.models[target].tier
