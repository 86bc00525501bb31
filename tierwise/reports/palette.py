"""Colours shared by the HTML and PNG pictures, so a tier looks the same in both."""

from __future__ import annotations

TIER_COLOURS = {"lite": "#2a9d8f", "flash": "#457b9d", "pro": "#7b2cbf"}
# Stages get warm colours, distinct from the tiers', so a stage is never mistaken for a tier across charts.
CYCLE = ["#e76f51", "#f4a261", "#e9c46a", "#d62828", "#bc6c25", "#8d99ae", "#6a994e", "#b5838d", "#9c6644"]


def colours(names: list[str], fixed: dict[str, str] | None = None) -> dict[str, str]:
    fixed = fixed or {}
    out, spare = {}, [c for c in CYCLE if c not in fixed.values()]
    for i, name in enumerate(names):
        out[name] = fixed.get(name) or spare[i % len(spare)]
    return out
