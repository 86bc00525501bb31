"""Side-by-side evaluation of routers on one outcome table: random, prompt length, learned, oracle.

Kept apart from the CLI so the benchmark script and tests get the same numbers the command prints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .curves import Curve, learned_curve, oracle_curve, random_curve, score_curve
from .errors import OutcomeError
from .learned import LearnedRouter
from .metrics import summarize
from .table import OutcomeTable


def router_inputs(router: LearnedRouter, table: OutcomeTable, objective: str | None = None):
    """(predicted quality, relative cost), both (n_prompts, n_models) in the table's ladder order."""
    unknown = [m for m in table.models if m not in router.models]
    if unknown:
        raise OutcomeError(
            table.source,
            f"the router was trained on {', '.join(router.models)}; it knows nothing of {', '.join(unknown)}",
        )
    cols = [router.models.index(m) for m in table.models]
    pred = router.predict_many(table.prompts)[:, cols]
    objective = objective or router.objective
    if objective == "usd" and router.cost_model is not None:
        kappa = router.relative_costs(table.prompts)[:, cols]
    else:
        kappa = np.tile(np.linspace(0.0, 1.0, table.n_models), (table.n_prompts, 1))
    return pred, kappa


def length_curve(table: OutcomeTable, name: str = "prompt-length") -> Curve:
    """Baseline: the longest prompts go to the top model (cheapest model for the rest)."""
    return score_curve(name, table, np.array([len(p) for p in table.prompts], dtype=float))


def curves_for(
    table: OutcomeTable,
    router: LearnedRouter | None = None,
    *,
    objectives: Sequence[str] | None = None,
) -> list[Curve]:
    """Every router's curve on `table`. `objectives` ("calls", "usd") adds one learned curve per objective;
    default: the router's own objective only."""
    curves = [random_curve(table), length_curve(table)]
    if router is not None:
        for obj in objectives or [router.objective]:
            name = "learned" if not objectives else f"learned-{obj}"
            pred, kappa = router_inputs(router, table, obj)
            curves.append(learned_curve(name, table, pred, kappa))
    curves.append(oracle_curve(table))
    return curves


def reference(table: OutcomeTable) -> dict[str, Any]:
    """What always using each model gives: the yardstick every metric is relative to."""
    return {
        "source": table.source,
        "prompts": table.n_prompts,
        "cost_unit": table.cost_unit,
        "top": table.top,
        "models": [
            {"model": m, "quality": float(q), "cost": float(c)}
            for m, q, c in zip(table.models, table.model_quality(), table.model_cost(), strict=True)
        ],
        "notes": list(table.notes),
    }


def evaluate(
    table: OutcomeTable, router: LearnedRouter | None = None, *, objectives: Sequence[str] | None = None
) -> dict[str, Any]:
    """{"reference": ..., "routers": [metrics per router], "curves": {name: Curve}}."""
    curves = curves_for(table, router, objectives=objectives)
    return {
        "reference": reference(table),
        "routers": [summarize(c, table) for c in curves],
        "curves": {c.name: c for c in curves},
    }
