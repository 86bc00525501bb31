"""What every prebuilt pipeline (content, research, agentic) returns besides its own fields: the answer, the
steps taken, every priced call, and the bill per stage."""

from __future__ import annotations

from typing_extensions import TypedDict

from .state import Calls, Steps


class StageCost(TypedDict):
    """One stage's share of the bill (all its calls: retries and fallbacks included)."""

    calls: int
    tiers: list[str]
    models: list[str]
    input_tokens: int
    output_tokens: int
    cost_usd: float
    all_pro_cost_usd: float


class PipelineOutput(TypedDict, total=False):
    answer: str
    route: str
    """Which pipeline (or branch of it) ran; the ledger groups calls by it."""
    steps: Steps
    """Nodes visited, in order."""
    failure: dict[str, str] | None
    """Set when a critical stage failed on every model it may use, or a hard spend cap stopped the request."""
    request_id: str
    calls: Calls
    """Every model call, priced."""
    cost_by_stage: dict[str, StageCost]
    total_cost_usd: float
    """Every call of the request: routing, escalations and failed attempts included."""
    all_pro_cost_usd: float
    """The same calls priced on Pro."""
    direct_pro_cost_usd: float
    """What one direct Pro call answering the request would cost (input, answer, Pro's typical thinking)."""
    net_saving_usd: float
    """direct_pro_cost_usd - total_cost_usd: negative when routing cost more than going straight to Pro."""
    direct_pro_basis: str
    """How direct_pro_cost_usd was estimated."""
