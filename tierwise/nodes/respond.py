"""respond: picks the final text (or reports the failure) and totals the bill — beside what one direct Pro call
would have cost and the net saving (ledger/economics.py). No model call."""

from typing import Any

from tierwise.calls.api import current_context
from tierwise.state import State
from tierwise.tiers.economics import totals

from .base import ledgers, plain_node, registry
from .declare import best_answer


def respond(state: State) -> dict[str, Any]:
    calls = state.get("calls", [])
    if state.get("failure"):
        # A critical stage failed: say so rather than ship a cheaper stage's text in its place.
        answer = ""
    else:
        answer = best_answer(state)
    return {
        "steps": ["respond"],
        "answer": answer,
        "escalated": bool(state.get("escalated")),
        **totals(calls, state.get("route"), registry(current_context()), ledgers()),
    }


node = plain_node("respond", respond)
