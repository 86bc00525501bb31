"""respond: picks the final text (or reports the failure) and totals the bill. No model call."""


def node(state: dict) -> dict:
    calls = state.get("calls", [])
    if state.get("failure"):
        # A critical stage failed: say so rather than ship a cheaper stage's text in its place.
        answer = ""
    else:
        answer = state.get("polished") or state.get("reasoned") or state.get("draft") or ""
    return {
        "steps": ["respond"],
        "answer": answer,
        "escalated": bool(state.get("escalated")),
        "total_cost_usd": round(sum(c.cost_usd for c in calls), 10),
        "all_pro_cost_usd": round(sum(c.all_pro_cost_usd for c in calls), 10),
    }
