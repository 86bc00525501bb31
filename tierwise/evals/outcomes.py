"""Eval results as an outcome table (tierwise/routing/FORMAT.md), so calibration and `tierwise suggest` read them.

One row per case × stage × tier: `prompt_id` is `case:stage` (each stage is its own prompt to route), `model` the
tier name, `category` the task type. The extra columns (`stage`, `tier`, `task_type`, `model_id`, ...) are
ignored by `load_outcomes` and read by the optimizer.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from tierwise.errors import EvalError

from .runner import EvalRun

COLUMNS = ("prompt_id", "prompt", "model", "quality", "cost_usd", "input_tokens", "output_tokens", "response",
           "category", "stage", "tier", "task_type", "model_id", "latency_ms", "checker", "detail")


def outcome_rows(run: EvalRun) -> list[dict[str, Any]]:
    return [
        {
            "prompt_id": f"{o.case.id}:{o.stage}", "prompt": o.case.input, "model": o.tier,
            "quality": round(o.quality, 6), "cost_usd": round(o.cost_usd, 10), "input_tokens": o.input_tokens,
            "output_tokens": o.output_tokens, "response": o.answer, "category": o.case.task_type or "",
            "stage": o.stage, "tier": o.tier, "task_type": o.case.task_type or "", "model_id": o.model,
            "latency_ms": round(o.latency_ms, 3), "checker": o.case.checker, "detail": o.detail,
        }
        for o in run.comparable()
    ]


def write_outcomes(run: EvalRun, path: str | Path) -> Path:
    """Write the comparable outcomes (CSV, JSONL or Parquet, by extension)."""
    from tierwise.routing.errors import OutcomeError
    from tierwise.routing.formats import write_rows

    try:
        return write_rows(path, outcome_rows(run), COLUMNS)
    except OutcomeError as exc:
        raise EvalError(str(exc)) from None
    except OSError as exc:
        raise EvalError(f"cannot write {path}: {exc.strerror or exc}") from None


def read_eval_rows(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Rows of eval result files, checked for what the optimizer needs: stage, tier, quality, the case."""
    from tierwise.routing.errors import OutcomeError
    from tierwise.routing.formats import read_rows

    rows: list[dict[str, Any]] = []
    for path in paths:
        try:
            found = read_rows(path)
        except OutcomeError as exc:
            raise EvalError(str(exc)) from None
        for n, row in enumerate(found, 1):
            missing = [c for c in ("prompt_id", "stage", "tier", "quality") if not str(row.get(c) or "").strip()]
            if missing:
                raise EvalError(f"{path}: row {n}: no {', '.join(missing)} (not written by `tierwise eval`?)")
            try:
                quality = float(row["quality"])
            except (TypeError, ValueError):
                raise EvalError(f"{path}: row {n}: quality {row['quality']!r} is not a number") from None
            if not 0.0 <= quality <= 1.0:
                raise EvalError(f"{path}: row {n}: quality {quality:g} is outside 0..1")
            rows.append({**row, "quality": quality, "task_type": str(row.get("task_type") or "") or None,
                         "case": str(row["prompt_id"]).rsplit(":", 1)[0], "source": str(path)})
    return rows
