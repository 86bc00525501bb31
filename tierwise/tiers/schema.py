"""The registry's shape, validated with pydantic so a bad file fails with the key and the reason."""

from __future__ import annotations

import functools
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from tierwise.strict import url_problem

from .capabilities import DEFAULT_LEVEL_BUDGETS
from .catalogue import (
    BATCH_IS_NOT_A_SERVICE_TIER,
    SERVICE_TIERS,
    THINKING_LEVELS,
    ModelSpec,
    Price,
    ThinkingLevel,
    _Strict,
)

__all__ = ["ModelSpec", "Price", "RegistryData", "StageSpec", "ThinkingLevel"]

# Seconds: finite and at most a day (a longer wait is a typo, and huge values overflow time arithmetic).
Seconds = Annotated[float, Field(gt=0.0, le=86_400.0)]
Delay = Annotated[float, Field(ge=0.0, le=86_400.0)]
# A retry's wait: at least 10 ms, so that no setting turns retries into a busy loop (0 gave 1,000+ attempts in 5 s).
RetryDelay = Annotated[float, Field(ge=0.01, le=86_400.0)]
Factor = Annotated[float, Field(gt=0.0, le=10.0)]  # a service tier's multiplier on the standard price
RouteName = Literal["simple", "moderate", "complex", "extract"]
# Service tier → multiplier on the standard price (Flex is half price, Priority +80%); the registry's
# [service_tiers] table says the same and wins.
DEFAULT_SERVICE_TIERS: dict[str, float] = {"standard": 1.0, "flex": 0.5, "priority": 1.8}


class FamilySpec(_Strict):
    """A model family: the catalogue keys (tier, thinking levels, sampling, limits...) every model whose id
    `match`es (a regular expression, in full) gets unless its own [models] entry says otherwise."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)
    match: str = Field(description="Regular expression matched against the whole model id.")
    source: str = Field(default="", description="The Google page (or SDK source) these facts come from.")

    @model_validator(mode="after")
    def _known_keys(self) -> FamilySpec:
        allowed = set(ModelSpec.model_fields) - {"prices", "family", "shutdown", "replacement"}
        unknown = sorted(set(self.model_extra or {}) - allowed)
        if unknown:
            raise ValueError(f"unknown key(s) {unknown}; a family sets model keys: {sorted(allowed)}")
        return self


class TierSpec(_Strict):
    model: str
    description: str = ""


class StageSpec(_Strict):
    tier: str
    description: str = ""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    low_temperature: str = Field(
        default="", description="Why this stage sends a temperature below a Gemini 3 model's default (Google's "
        "Gemini 3 prompting guide advises against it: looping, degraded reasoning). Empty: such a temperature is "
        "not sent to those models; they use their default.")
    max_output_tokens: PositiveInt = 1024
    thinking_level: ThinkingLevel | None = None
    thinking_budget: int | None = Field(default=None, ge=-1)
    critical: bool = Field(default=False, description="Readers see its text: never downgraded.")
    fallbacks: list[str] = Field(default_factory=list)
    timeout_s: Seconds = Field(default=60.0, description="One attempt's time limit.")

    @model_validator(mode="after")
    def _one_thinking_control(self) -> StageSpec:
        if self.thinking_level is not None and self.thinking_budget is not None:
            raise ValueError("thinking_level and thinking_budget together: Gemini refuses both in one request "
                             "(400); keep one")
        return self


class ThinkingSettings(_Strict):
    """Typical thinking tokens per level: maps a stage's budget onto a level (and back) for a model that takes
    only one of the two (see tiers/capabilities.py)."""

    level_budgets: dict[ThinkingLevel, NonNegativeInt] = Field(
        default_factory=lambda: dict[ThinkingLevel, NonNegativeInt](DEFAULT_LEVEL_BUDGETS)  # type: ignore[arg-type]
    )

    @model_validator(mode="after")
    def _every_level(self) -> ThinkingSettings:
        missing = [level for level in THINKING_LEVELS if level not in self.level_budgets]
        if missing:
            raise ValueError(f"level_budgets: missing {missing}")
        return self


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


def _pattern(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"not a regular expression ({exc}): {pattern!r}") from None
    return pattern


Pattern = Annotated[str, AfterValidator(_pattern)]


class IntentCue(_Strict):
    """What kind of work a request is, as LLM triage's `intent` says, read from its words by the pre-router (whose
    ladder says only how hard it is). Patterns are regular expressions searched case-insensitively."""

    intent: Literal["question", "extraction", "analysis", "writing", "chat"]
    route: RouteName = Field(description="Where a request that matches `match` goes, with no API call.")
    match: list[Pattern] = Field(default_factory=list, description="Any one of these: the route, for sure.")
    unsure: list[Pattern] = Field(
        default_factory=list, description="Any one of these (and no `match`): the pre-router is unsure of the "
        "request's intent: hybrid asks LLM triage; learned lets the ladder decide.")

    def sure_of(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.match)  # re caches the compiled patterns

    def unsure_of(self, text: str) -> bool:
        return any(re.search(p, text, re.IGNORECASE) for p in self.unsure)


class Router(_Strict):
    """How triage decides: `llm` (the triage stage on Lite), `learned` (a pre-router trained on outcome data: no
    API call), or `hybrid` (the learned router when it is confident enough, LLM triage otherwise)."""

    strategy: Literal["llm", "learned", "hybrid"] = "llm"
    model_path: str = Field(default="", description="Router file from `tierwise router train`; relative paths "
                            "are read from the user registry file's folder. Empty: the packaged pre-router.")
    threshold: float = Field(default=0.5, ge=0.0, le=1.0, description="Quality/cost trade-off (from calibrate).")
    hybrid_margin: float | None = Field(
        default=None, ge=0.0, le=1.0, description="hybrid: LLM triage is asked only when the learned router's "
        "margin (utility of its pick minus the runner-up's) is below this: its uncertain band, calibrated from "
        "outcomes by `tierwise calibrate`."
    )
    hybrid_confidence: float | None = Field(
        default=None, ge=0.0, le=1.0, description="hybrid, the older rule: set, it replaces hybrid_margin, and the "
        "learned router decides when its predicted quality for the model it picks is at least this. Neither set: "
        "LLM triage decides every request."
    )
    intents: list[IntentCue] = Field(
        default_factory=list, description="learned/hybrid: intent cues read before the ladder (first sure match "
        "wins), so the pre-router can choose every route LLM triage can (extract, moderate...).")
    retrain_labels: PositiveInt = Field(
        default=500, description="`tierwise suggest` says a retrain (`tierwise router train --from-ledger`) should "
        "pay once this many new labels are in the ledger (benchmarks/routing.py --learning-curve: most of the gain "
        "comes by 500)."
    )


LABEL_KEY = r"^[a-z][a-z0-9_]{0,39}$"  # a request label budgets are kept per: user, team, api_key_id...


class TenantCaps(_Strict):
    """One tenant's caps in USD per UTC day/month (soft: step its non-critical stages down; hard: refuse)."""

    daily_usd: PositiveFloat | None = None
    monthly_usd: PositiveFloat | None = None
    hard_daily_usd: PositiveFloat | None = None
    hard_monthly_usd: PositiveFloat | None = None


class LabelBudget(TenantCaps):
    """Caps for every value of one request label (`[budget.per_label.user]`: each user its own), and per value
    overrides (`[budget.per_label.user.overrides.alice]`), which replace the whole set of caps for that value."""

    overrides: dict[str, TenantCaps] = Field(default_factory=dict)

    def caps_for(self, value: str) -> TenantCaps:
        return self.overrides.get(value, self)


class Budget(_Strict):
    """Spend caps in USD per UTC day/month. Unset: no cap. Soft caps downgrade non-critical stages; hard caps
    refuse new calls. `per_label`: the same caps per tenant, keyed by a label requests carry (user, team...)."""

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
    per_label: dict[Annotated[str, Field(pattern=LABEL_KEY)], LabelBudget] = Field(
        default_factory=dict, description="Caps per value of a request label: [budget.per_label.user] ...")
    fit_output_near_cap: bool = Field(
        default=True, description="Near a hard cap, where an attempt's worst case (its whole max_output_tokens) no "
        "longer fits, run it with the output limit what is left pays for, if that covers what the stage has been "
        "seen to need; off: refuse it, as the cap holds either way.")
    fit_output_quantile: float = Field(default=0.99, gt=0.0, le=1.0, description="Of the stage's recent good "
                                       "answers' output tokens (thinking included), on the same model.")
    fit_output_margin: float = Field(default=1.5, ge=1.0, le=10.0, description="Times that quantile: the least "
                                     "output limit an attempt near a cap may run with.")
    fit_output_min_samples: PositiveInt = Field(default=20, description="Fewer good answers seen: no fitting.")

    @functools.cached_property
    def any_cap(self) -> bool:
        """Any cap configured (read on every call: computed once, the registry is immutable)."""
        caps = (self.daily_usd, self.monthly_usd, self.hard_daily_usd, self.hard_monthly_usd)
        return any(c is not None for c in caps) or bool(self.per_task_type) or bool(self.per_label)

    @functools.cached_property
    def any_hard_cap(self) -> bool:
        per_label = (caps for budget in self.per_label.values() for caps in (budget, *budget.overrides.values()))
        return (self.hard_daily_usd is not None or self.hard_monthly_usd is not None
                or any(c.hard_daily_usd is not None or c.hard_monthly_usd is not None for c in per_label))


class LedgerSettings(_Strict):
    enabled: bool = Field(default=True, description="Persist every call record (needed for spend caps and reports).")
    url: str = Field(default="", description="Empty: SQLite in the user's data dir; or sqlite:///… / postgresql://…")
    store_prompts: bool = Field(default=False, description="Store prompt text; otherwise only its sha256.")


class EndpointSettings(_Strict):
    """Where model calls go when a run names no endpoint: the operator's own Gemini-compatible proxy, if any."""

    base_url: str = Field(default="", description="Empty: Google's Gemini API. The API key from the environment "
                          "is sent here (as it is with `--base-url` or $TIERWISE_BASE_URL).")

    @model_validator(mode="after")
    def _url(self) -> EndpointSettings:
        problem = url_problem(self.base_url) if self.base_url else None
        if problem:
            raise ValueError(f"base_url {problem}")
        return self


class Resilience(_Strict):
    """Retries, waits and cooldowns of the call path (see tierwise/calls/loop.py)."""

    max_attempts: int = Field(default=3, ge=1, le=100, description="Attempts per model before the next in the "
                              "chain.")
    max_total_attempts: int = Field(default=50, ge=1, le=10_000, description="Attempts of one stage call, across "
                                    "models and passes: a bound whatever the waits.")
    base_delay_s: RetryDelay = 0.5
    max_delay_s: RetryDelay = 8.0
    connect_budget_s: Seconds = Field(default=15.0, description="A call whose every attempt failed to connect "
                                      "gives up after this long (a dead endpoint or a wrong URL), not the whole "
                                      "request budget.")
    max_wait_s: Delay = Field(
        default=30.0, description="The longest Retry-After honoured on one model before moving down the chain."
    )
    request_budget_s: Seconds = Field(default=180.0, description="All attempts of one stage call, in total.")
    cooldown_failures: PositiveInt = Field(default=5, description="Failures within the window that cool a model.")
    cooldown_window_s: Seconds = 30.0
    cooldown_failure_ratio: float = Field(
        default=0.5, ge=0.0, le=1.0, description="...and at least this share of its calls in the window failed."
    )
    cooldown_s: Seconds = Field(default=20.0, description="How long a cooled model is skipped before a probe.")
    flex_timeout_s: Seconds = Field(
        default=900.0, description="One attempt's time limit on the Flex service tier (minutes of latency)."
    )
    flex_request_budget_s: Seconds = Field(
        default=1800.0, description="All attempts of one stage call on the Flex service tier."
    )
    batch_request_budget_s: Seconds = Field(
        default=86400.0, description="All attempts of one stage call sent through the Batch API (a job may take up "
        "to 24 h, then expires; a retry goes into a later job)."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Resilience:
        if self.max_delay_s < self.base_delay_s:
            raise ValueError(f"max_delay_s ({self.max_delay_s:g}) is below base_delay_s ({self.base_delay_s:g})")
        return self

    def time_limits(self, service_tier: str, stage_timeout_s: float) -> tuple[float, float]:
        """(one attempt's timeout, the whole stage call's budget) on `service_tier`: Flex answers in minutes, so
        a stage moved to flex gets the longer of its own and the Flex limits rather than timing out."""
        if service_tier == "batch":  # not a service tier: the Batch API (`CallPlan.timing`)
            return self.batch_request_budget_s, self.batch_request_budget_s
        if service_tier == "flex":
            return max(stage_timeout_s, self.flex_timeout_s), max(self.request_budget_s, self.flex_request_budget_s)
        return stage_timeout_s, self.request_budget_s


class TaskStage(_Strict):
    tier: str = Field(description="The tier this stage runs on for this task type (overrides stages.X.tier).")


class TaskTypeSpec(_Strict):
    """Per-task-type settings: `[task_types.support.stages.draft] tier = "flash"` moves one task type's stage."""

    description: str = ""
    stages: dict[str, TaskStage] = Field(default_factory=dict)


class ShadowStage(_Strict):
    rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of the stage's good calls re-run higher.")
    tier: str = Field(default="", description="Tier the shadow call runs on; empty: the next tier up.")
    task_types: dict[str, float] = Field(default_factory=dict, description="Per-task-type rates overriding `rate`.")

    @model_validator(mode="after")
    def _rates(self) -> ShadowStage:
        bad = [f"{name}={rate}" for name, rate in self.task_types.items() if not 0.0 <= rate <= 1.0]
        if bad:
            raise ValueError(f"task_types: rates must be within 0..1 (got {', '.join(bad)})")
        return self


class Shadow(_Strict):
    """Shadow traffic: after a stage answers, re-run a sample on a higher tier in the background and have a judge
    grade both answers. Its spend is counted apart from the budget's and capped by `daily_usd`."""

    enabled: bool = False
    daily_usd: PositiveFloat = Field(default=1.0, description="Shadow + judge spend per UTC day, counted apart.")
    judge_stage: str = "judge"
    judge_tier: str = Field(default="", description="Empty: the judge stage's own tier.")
    tie_margin: int = Field(default=1, ge=0, le=9, description="Score gap (1-10 scale) still counted as a tie.")
    max_in_flight: PositiveInt = Field(default=8, description="Samples beyond this many pending are skipped.")
    focus: Literal["uniform", "uncertain"] = Field(
        default="uniform", description="uncertain: requests the pre-router is least sure of (margin inside its "
        "uncertain band) are sampled at rate × uncertain_boost — the labels a retrain learns most from (active "
        "learning); daily_usd still caps the day."
    )
    uncertain_boost: float = Field(default=5.0, ge=1.0, le=100.0, description="focus = uncertain: the rate's "
                                   "multiplier inside the band.")
    uncertain_band: float | None = Field(
        default=None, gt=0.0, le=1.0, description="focus = uncertain: the margin below which a request counts as "
        "uncertain. Unset: [router] hybrid_margin (the packaged registry sets it), else 0.05.")
    stages: dict[str, ShadowStage] = Field(default_factory=dict)

    def rate(self, stage: str, task_type: str | None, margin: float | None = None,
             band: float | None = None) -> float:
        """The sampling probability of one call; `margin` the pre-router's on this request (None: unknown)."""
        spec = self.stages.get(stage)
        if not self.enabled or spec is None:
            return 0.0
        base = spec.task_types.get(task_type, spec.rate) if task_type else spec.rate
        edge = self.uncertain_band if self.uncertain_band is not None else (band or 0.05)
        if self.focus == "uncertain" and margin is not None and margin < edge:
            return min(1.0, base * self.uncertain_boost)
        return base


class EvalSettings(_Strict):
    """`tierwise eval`: the LLM-judge checker and the statistics."""

    judge_stage: str = "judge"
    judge_tier: str = Field(default="", description="Empty: the judge stage's own tier.")
    confidence_level: float = Field(default=0.95, gt=0.5, lt=1.0, description="Of every confidence interval.")
    bootstrap: int = Field(default=2000, ge=200, le=100_000, description="Resamples per bootstrap interval.")


class OptimizerSettings(_Strict):
    """`tierwise suggest`: when the evidence is enough to suggest moving a task type's stage to another tier."""

    min_samples: PositiveInt = Field(default=30, description="Fewer paired samples: say so, suggest nothing.")
    min_quality_gain: float = Field(default=0.05, ge=0.0, le=1.0, description="Move up only for at least this.")
    max_quality_loss: float = Field(default=0.02, ge=0.0, le=1.0, description="Move down only if losing at most.")
    confidence: float = Field(default=0.9, gt=0.5, lt=1.0, description="Probability the gain/loss test must reach.")


class Economics(_Strict):
    """The direct-Pro counterfactual reports compare against: one Pro call per request (ledger/economics.py)."""

    overhead_stages: list[str] = Field(
        default_factory=lambda: ["triage", "judge", "agent_route"],
        description="The router's own stages: a direct Pro call would make none of these calls.")
    pro_thinking_tokens: int = Field(
        default=300, ge=0, description="Pro's typical thinking per answer until the ledger has enough Pro calls.")
    route_thinking_tokens: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict,
                                                                          description="Per route.")
    min_pro_samples: PositiveInt = Field(default=20, description="Pro calls on a route before their median is used.")
    window_days: PositiveInt = Field(default=30, description="How far back those Pro calls are read.")


class RegistryData(_Strict):
    """The merged registry document. Cross-references are checked here, naming the offending key."""

    source: str = ""
    tier_order: list[str] = Field(min_length=1)
    tiers: dict[str, TierSpec]
    families: dict[str, FamilySpec] = Field(default_factory=dict)
    models: dict[str, ModelSpec]
    aliases: dict[str, str] = Field(default_factory=dict, description="Names genai-prices resolves to a "
                                    "catalogued model (gemini-flash-latest → its model); filled when loading.")
    stages: dict[str, StageSpec]
    renamed_stages: dict[str, str] = Field(default_factory=dict, description="A stage's former name → its name "
                                           "now: old registries, ledgers and eval tables stay readable.")
    thinking: ThinkingSettings = ThinkingSettings()
    thresholds: Thresholds = Thresholds()
    routing: Routing = Routing()
    router: Router = Router()
    service_tiers: dict[str, Factor] = Field(default_factory=lambda: dict(DEFAULT_SERVICE_TIERS))
    budget: Budget = Budget()
    resilience: Resilience = Resilience()
    ledger: LedgerSettings = LedgerSettings()
    endpoint: EndpointSettings = EndpointSettings()
    task_types: dict[str, TaskTypeSpec] = Field(default_factory=dict)
    shadow: Shadow = Shadow()
    evals: EvalSettings = EvalSettings()
    optimizer: OptimizerSettings = OptimizerSettings()
    economics: Economics = Economics()

    @model_validator(mode="after")
    def _references(self) -> RegistryData:
        problems: list[str] = []
        problems += self._service_tier_problems()
        if sorted(self.tier_order) != sorted(self.tiers):
            problems.append(
                f"tier_order: lists {self.tier_order} but [tiers] declares {sorted(self.tiers)}; they must match"
            )
        for name, tier in self.tiers.items():
            if tier.model not in self.models:
                problems.append(f"tiers.{name}.model: {self.unknown_model(tier.model)}")
        for model_id, model in self.models.items():
            if model.tier is not None and model.tier not in self.tiers:
                problems.append(f"models.{model_id}.tier: unknown tier {model.tier!r} (known: {self.tier_order})")
            if not model.prices:
                problems.append(f"models.{model_id}.prices: no price known for {model_id} (genai-prices has none "
                                "and the registry gives none); add a [[models.\"ID\".prices]] entry")
            if model.replacement is not None and model.replacement not in self.models:
                problems.append(f"models.{model_id}.replacement: {self.unknown_model(model.replacement)}")
        for name, stage in self.stages.items():
            if stage.tier not in self.tiers:
                problems.append(f"stages.{name}.tier: unknown tier {stage.tier!r} (known: {self.tier_order})")
                continue
            for i, target in enumerate(stage.fallbacks):
                key = f"stages.{name}.fallbacks[{i}]"
                if target not in self.tiers and target not in self.models:
                    problems.append(f"{key}: {target!r} is neither a tier nor a model id "
                                    f"({self.unknown_model(target)})")
                elif target not in self.tiers and self.models[target].tier is None:
                    problems.append(f"{key}: model {target!r} belongs to no tier; set models.\"{target}\".tier "
                                    "to use it as a fallback")
                elif stage.critical and self.rank(self.tier_of(target)) < self.rank(stage.tier):
                    problems.append(
                        f"{key}: {target!r} is below the stage's tier {stage.tier!r}; "
                        "a critical stage never falls back to a lower tier"
                    )
        for old, new in self.renamed_stages.items():
            if new not in self.stages:
                problems.append(f"renamed_stages.{old}: {new!r} is not a declared stage")
            if old in self.stages:
                problems.append(f"renamed_stages.{old}: {old!r} is still declared under [stages]; a renamed stage "
                                "has one name")
        problems += self._evals_references()
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _service_tier_problems(self) -> list[str]:
        """[service_tiers] names Gemini's service tiers only; the budget and every model name known ones."""
        problems: list[str] = []
        for name in self.service_tiers:
            if name == "batch":
                problems.append(f"service_tiers.batch: {BATCH_IS_NOT_A_SERVICE_TIER}")
            elif name not in SERVICE_TIERS:
                problems.append(f"service_tiers.{name}: unknown service tier (known: {list(SERVICE_TIERS)})")
        if self.service_tiers.get("standard") != 1.0:
            problems.append("service_tiers.standard: must be 1.0 (the list price the others are relative to)")
        wanted = self.budget.service_tier_when_capped
        if wanted == "batch":
            problems.append(f"budget.service_tier_when_capped: {BATCH_IS_NOT_A_SERVICE_TIER}")
        elif wanted is not None and wanted not in self.service_tiers:
            known = sorted(self.service_tiers)
            problems.append(f"budget.service_tier_when_capped: unknown service tier {wanted!r} (known: {known})")
        for model_id, model in self.models.items():
            for tier in model.service_tiers:
                if tier not in self.service_tiers:
                    problems.append(f"models.{model_id}.service_tiers: {tier!r} has no factor in [service_tiers]")
        return problems

    def _evals_references(self) -> list[str]:
        """Task-type stage tiers, shadow and eval settings name known stages and tiers."""
        problems: list[str] = []

        def check(key: str, stage: str | None, tier: str | None) -> None:
            if stage is not None and stage not in self.stages:
                problems.append(f"{key}: unknown stage {stage!r} (known: {sorted(self.stages)})")
            if tier and tier not in self.tiers:
                problems.append(f"{key}: unknown tier {tier!r} (known: {self.tier_order})")

        for name, task in self.task_types.items():
            for stage, spec in task.stages.items():
                check(f"task_types.{name}.stages.{stage}", stage, spec.tier)
        for stage, shadow in self.shadow.stages.items():
            check(f"shadow.stages.{stage}", stage, shadow.tier)
        check("shadow.judge_stage", self.shadow.judge_stage, self.shadow.judge_tier)
        check("evals.judge_stage", self.evals.judge_stage, self.evals.judge_tier)
        return problems

    def rank(self, tier: str) -> int:
        return self.tier_order.index(tier)

    def tier_of(self, target: str) -> str:
        """The tier of a fallback target, which may name a tier or a model id (with a tier: checked at load)."""
        if target in self.tiers:
            return target
        tier = self.models[target].tier
        assert tier is not None, f"model {target} has no tier"
        return tier

    def unknown_model(self, name: str) -> str:
        """An unknown model name, explained with the closest catalogued ones."""
        from .families import closest

        return (f"unknown model {name!r}: neither in the catalogue (genai-prices' Gemini models and [models]) nor "
                f"an alias genai-prices knows{closest(name, [*self.models, *self.aliases])}")
