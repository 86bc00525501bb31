"""The graph state. Input and output schemas are narrower views of it, shown as such in Studio."""

from __future__ import annotations

import operator
from typing import Annotated, Any

from pydantic import ConfigDict
from typing_extensions import TypedDict

from .records import CallRecord, TriageResult

Steps = Annotated[list[str], operator.add]
Calls = Annotated[list[CallRecord], operator.add]


def merge(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """Declared stages' outputs: each update adds its stage's entry."""
    return {**(old or {}), **(new or {})}


Outputs = Annotated[dict[str, Any], merge]


class InputState(TypedDict, total=False):
    """What a caller sends."""

    # Studio (and any JSON schema of the graph) shows the field docstrings below as descriptions.
    __pydantic_config__ = ConfigDict(title="Request", use_attribute_docstrings=True)  # type: ignore[misc]

    input: str
    """The request text."""
    task_type: str
    """Optional label for reports (e.g. 'support-ticket')."""
    request_id: str
    """Optional id grouping this request's calls in the ledger (one is made up if absent)."""
    labels: dict[str, str]
    """Optional labels saying who the request is for, e.g. {"user": "alice", "team": "support"}: per-tenant
    budgets ([budget.per_label]) and `tierwise report --by label:user` use them."""


class OutputState(TypedDict, total=False):
    """What a caller gets back."""

    __pydantic_config__ = ConfigDict(use_attribute_docstrings=True)  # type: ignore[misc]

    answer: str
    route: str
    steps: Steps
    """Nodes visited, in order."""
    triage: TriageResult
    draft: str
    score: int | None
    escalated: bool
    escalation_reason: str
    failure: dict[str, str] | None
    """Set when a critical stage failed on every model it may use, or a hard spend cap stopped the request:
    stage, kind, message. No answer then."""
    request_id: str
    """Groups this request's calls in the ledger."""
    calls: Calls
    """Every model call, priced."""
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


class State(InputState, OutputState, total=False):
    """Everything the nodes share. `calls` and `steps` only ever grow (append reducers)."""

    __pydantic_config__ = ConfigDict(use_attribute_docstrings=True)  # type: ignore[misc]  # not "Request"

    extracted: dict[str, Any]
    draft_confidence: float
    score_reason: str
    polished: str
    reasoned: str
    outputs: Outputs
    """What declared stages without a state key of their own gave, by stage name (tierwise.Stage)."""
    final: str
    """The text an answering declared stage gave: the answer respond returns."""
