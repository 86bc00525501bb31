"""Pydantic records the graph passes around: what models return, and what every call cost."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Confidence = Literal["low", "medium", "high"]
Intent = Literal["question", "extraction", "analysis", "writing", "chat"]
CONFIDENCE_VALUE: dict[str, float] = {"low": 0.25, "medium": 0.6, "high": 0.9}


class Triage(BaseModel):
    """The router's view of a request. Every field is an enum so even a small model can fill it."""

    intent: Intent = Field(
        description="question: wants an answer; extraction: wants fields pulled out of the text; "
        "analysis: wants multi-step reasoning; writing: wants prose; chat: small talk."
    )
    complexity: Literal[1, 2, 3, 4, 5] = Field(description="1 = trivial ... 5 = expert, multi-step.")
    confidence: Confidence = Field(description="How sure the classifier is of this triage.")


class TriageResult(Triage):
    """Triage plus how it was obtained (a fallback triage is marked, never silently trusted)."""

    usable: bool = True
    source: Literal["llm", "learned", "fallback"] = "llm"
    margin: float | None = None  # the pre-router's margin on this request, when it was asked (shadow focus)


class Draft(BaseModel):
    answer: str = Field(description="The answer to the user's request.")
    confidence: Confidence = Field(description="How sure you are that the answer is correct and complete.")


class Score(BaseModel):
    score: Literal[1, 2, 3, 4, 5, 6, 7, 8, 9, 10] = Field(description="1 = wrong or useless ... 10 = perfect.")
    reason: str = Field(max_length=300, description="One line: why this score.")


class ExtractedField(BaseModel):
    name: str = Field(description="What the value is, e.g. 'amount', 'date', 'customer'.")
    value: str = Field(description="The value exactly as it appears in the text.")


class Extraction(BaseModel):
    """Default extraction schema; callers pass their own pydantic model to `build_graph(extract_schema=...)`."""

    task: str = Field(description="What the user wants done with these facts, in one sentence.")
    fields: list[ExtractedField] = Field(description="Every fact the request asks for, one per item.")


Outcome = Literal["ok", "unusable", "error"]


class CallRecord(BaseModel):
    """One model call, priced. Carries no prompt text and no credentials."""

    model_config = ConfigDict(frozen=True)

    call_id: str
    stage: str
    tier: str
    model: str
    input_tokens: int = 0
    output_tokens: int = Field(default=0, description="Billed output tokens, thinking included.")
    thinking_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    input_cost_usd: float = Field(default=0.0, description="The input part of cost_usd (cached input included).")
    output_cost_usd: float = Field(default=0.0, description="The output part of cost_usd (thinking included).")
    cached_input_cost_usd: float = Field(default=0.0, description="What the cached input tokens cost.")
    thinking_cost_usd: float = Field(default=0.0, description="What the thinking tokens cost.")
    service_tier: str = Field(default="standard", description="The service tier that served (and billed) it.")
    all_pro_cost_usd: float = Field(default=0.0, description="The same tokens at the top tier's prices.")
    latency_ms: float = 0.0
    outcome: Outcome = "ok"
    error: str | None = None
    error_kind: str | None = Field(default=None, description="rate_limited, unavailable, timeout, unusable, ...")
    attempt: int = Field(default=1, description="1 for the first try of this stage call on this model.")
    fallback: bool = Field(default=False, description="Ran on a model other than the stage's own.")
    task_type: str | None = None
    started_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    purpose: str | None = Field(default=None, description="None for user traffic; 'shadow' or 'eval' otherwise "
                                "(reports and the optimizer count those apart).")
    cache: Literal["create", "storage"] | None = Field(default=None, description="An explicit context cache's "
                                                       "creation or storage, not a model call "
                                                       "(calls/explicit_caches.py).")
    processing: Literal["standard", "batch"] = Field(default="standard", description="'batch': sent in a Gemini "
                                                     "Batch API job and billed at its batch rates.")
