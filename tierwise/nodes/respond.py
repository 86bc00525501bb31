"""respond: picks the final text and totals the bill. No model call."""


def node(state: dict) -> dict:
    answer = state.get("polished") or state.get("reasoned") or state.get("draft") or ""
    calls = state.get("calls", [])
    return {
        "steps": ["respond"],
        "answer": answer,
        "escalated": bool(state.get("escalated")),
        "total_cost_usd": round(sum(c.cost_usd for c in calls), 10),
        "all_pro_cost_usd": round(sum(c.all_pro_cost_usd for c in calls), 10),
    }
