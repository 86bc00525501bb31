"""The outcome table: what each model scored on each prompt, and what it cost. The rest of routing reads this.

Rows (one per prompt × model) are pivoted into dense (prompts × models) matrices with the models ordered as a
ladder, cheapest first, because every router, metric and calibration step asks "which rung for this prompt".
The format is documented in FORMAT.md next to this file.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .errors import OutcomeError
from .formats import read_rows
from .pricing import PriceTable, resolve_prices

REQUIRED = ("prompt_id", "prompt", "model", "quality")
OPTIONAL = (
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "response",
    "draft_score",
    "confidence",
    "category",
)
CONFIDENCE_LABELS = {"low": 0.25, "medium": 0.6, "high": 0.9}
_BOOLS = {"true": 1.0, "false": 0.0}


@dataclass(frozen=True)
class OutcomeTable:
    """Dense view of an outcome table. Row i is one prompt; column j the j-th model, cheapest first.

    `cost` is USD per call when `cost_unit == "usd"`; with no cost information (`"calls"`) a call to the top
    model costs 1 and any other call 0, so mean cost is the share of top-model calls, RouteLLM's unit.
    """

    source: str
    prompt_ids: tuple[str, ...]
    prompts: tuple[str, ...]
    models: tuple[str, ...]
    quality: np.ndarray
    cost_usd: np.ndarray | None = None
    draft_score: np.ndarray | None = None
    confidence: np.ndarray | None = None
    categories: tuple[str, ...] | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def n_prompts(self) -> int:
        return len(self.prompt_ids)

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def top(self) -> str:
        return self.models[-1]

    @property
    def cost_unit(self) -> str:
        return "usd" if self.cost_usd is not None else "calls"

    @property
    def cost(self) -> np.ndarray:
        if self.cost_usd is not None:
            return self.cost_usd
        calls = np.zeros_like(self.quality)
        calls[:, -1] = 1.0
        return calls

    def model_quality(self) -> np.ndarray:
        """Mean quality of always routing to each model."""
        return self.quality.mean(axis=0)

    def model_cost(self) -> np.ndarray:
        """Mean cost per prompt of always routing to each model."""
        return self.cost.mean(axis=0)

    def subset(self, rows: Sequence[int] | np.ndarray) -> OutcomeTable:
        """The same table restricted to some prompts (for train/test splits)."""
        rows = np.asarray(rows, dtype=int)

        def pick(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[rows]

        return replace(
            self,
            prompt_ids=tuple(self.prompt_ids[i] for i in rows),
            prompts=tuple(self.prompts[i] for i in rows),
            quality=self.quality[rows],
            cost_usd=pick(self.cost_usd),
            draft_score=pick(self.draft_score),
            confidence=pick(self.confidence),
            categories=None if self.categories is None else tuple(self.categories[i] for i in rows),
        )

    def with_top(self, model: str) -> OutcomeTable:
        """Make `model` the reference top: models above it on the ladder are dropped (routing to something
        dearer than the reference cannot be 'cheaper than always-top')."""
        if model not in self.models:
            raise OutcomeError(
                self.source, f"--top {model!r} is not in the table (models: {', '.join(self.models)})"
            )
        keep = self.models.index(model) + 1
        if keep < 2:
            raise OutcomeError(
                self.source, f"--top {model!r} is the cheapest model; nothing is left to route to"
            )
        if keep == self.n_models:
            return self

        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[:, :keep]

        return replace(
            self,
            models=self.models[:keep],
            quality=self.quality[:, :keep],
            cost_usd=cut(self.cost_usd),
            draft_score=cut(self.draft_score),
            confidence=cut(self.confidence),
        )


def load_outcomes(
    path: str | Path,
    *,
    prices: Mapping[str, Any] | None = None,
    ladder: Sequence[str] | None = None,
    top: str | None = None,
) -> OutcomeTable:
    """Read and validate an outcome table (CSV, JSONL or Parquet; see FORMAT.md).

    `prices` ({model: {"input": $/1M, "output": $/1M}}) turns token counts into dollars for rows without
    `cost_usd`; models it lacks are looked up in the tierwise registry. `ladder` fixes the cheap→expensive
    order (default: by mean cost, or by mean quality when there is no cost); `top` names the reference model.
    Raises OutcomeError naming the file and the problem.
    """
    table = table_from_rows(read_rows(path), source=str(path), prices=prices, ladder=ladder)
    return table.with_top(top) if top else table


def table_from_rows(
    rows: Iterable[Mapping[str, Any]],
    *,
    source: str = "<rows>",
    prices: Mapping[str, Any] | None = None,
    ladder: Sequence[str] | None = None,
) -> OutcomeTable:
    """Validate rows and pivot them. Prompts missing a row for some model are dropped (and noted)."""
    rows = list(rows)
    if not rows:
        raise OutcomeError(source, "empty table: no rows")
    columns = set().union(*(r.keys() for r in rows))
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        found = ", ".join(sorted(columns)) or "none"
        raise OutcomeError(source, f"missing required column(s) {', '.join(missing)}; found: {found}")

    notes: list[str] = []
    prompt_of: dict[str, str] = {}
    category_of: dict[str, str] = {}
    cells: dict[tuple[str, str], dict[str, float | None]] = {}
    for n, row in enumerate(rows, 1):
        pid, model = _text(row.get("prompt_id")), _text(row.get("model"))
        if not pid:
            raise OutcomeError(source, f"row {n}: empty prompt_id")
        if not model:
            raise OutcomeError(source, f"row {n}: empty model")
        prompt = _text(row.get("prompt"))
        if prompt_of.setdefault(pid, prompt) != prompt:
            raise OutcomeError(source, f"row {n}: prompt_id {pid!r} appears with two different prompts")
        if (pid, model) in cells:
            raise OutcomeError(source, f"row {n}: duplicate row for prompt_id {pid!r} and model {model!r}")
        row_quality = _number(row.get("quality"), source, n, "quality")
        if row_quality is None:
            raise OutcomeError(source, f"row {n}: quality is empty")
        if not 0.0 <= row_quality <= 1.0:
            raise OutcomeError(source, f"row {n}: quality {row_quality:g} is outside 0..1")
        row_cost = _number(row.get("cost_usd"), source, n, "cost_usd")
        if row_cost is not None and row_cost < 0:
            raise OutcomeError(source, f"row {n}: cost_usd {row_cost:g} is negative")
        cat = _text(row.get("category"))
        if cat:
            category_of.setdefault(pid, cat)
        cells[(pid, model)] = {
            "quality": row_quality,
            "cost_usd": row_cost,
            "input_tokens": _number(row.get("input_tokens"), source, n, "input_tokens"),
            "output_tokens": _number(row.get("output_tokens"), source, n, "output_tokens"),
            "draft_score": _number(row.get("draft_score"), source, n, "draft_score"),
            "confidence": _confidence(row.get("confidence"), source, n),
        }

    models = sorted({m for _, m in cells})
    if len(models) < 2:
        raise OutcomeError(source, f"needs at least two models to route between; found only {models[0]!r}")
    pids = [p for p in prompt_of if all((p, m) in cells for m in models)]
    if len(pids) < len(prompt_of):
        notes.append(f"dropped {len(prompt_of) - len(pids)} prompt(s) lacking a row for every model")
    if not pids:
        raise OutcomeError(source, "no prompt has a row for every model")

    def matrix(key: str) -> np.ndarray:
        return np.array([[_nan(cells[(p, m)][key]) for m in models] for p in pids], dtype=float)

    quality = matrix("quality")
    cost = _costs(cells, pids, models, prices, notes)
    draft = _optional(matrix("draft_score"), "draft_score", notes)
    conf = _optional(matrix("confidence"), "confidence", notes)

    order = _ladder(models, quality, cost, ladder, source)
    table = OutcomeTable(
        source=source,
        prompt_ids=tuple(pids),
        prompts=tuple(prompt_of[p] for p in pids),
        models=tuple(models[i] for i in order),
        quality=quality[:, order],
        cost_usd=None if cost is None else cost[:, order],
        draft_score=None if draft is None else draft[:, order],
        confidence=None if conf is None else conf[:, order],
        categories=tuple(category_of.get(p, "") for p in pids) if category_of else None,
        notes=tuple(notes),
    )
    return table


def _costs(cells, pids, models, prices, notes) -> np.ndarray | None:
    """USD per cell from cost_usd, else tokens × price; None (→ top-call share) if any cell has neither."""
    needs_price = {
        m
        for (_, m), c in cells.items()
        if c["cost_usd"] is None and (c["input_tokens"] is not None or c["output_tokens"] is not None)
    }
    table: PriceTable = resolve_prices(needs_price, prices) if needs_price else {}
    out = np.full((len(pids), len(models)), np.nan)
    for j, m in enumerate(models):
        price = table.get(m)
        for i, p in enumerate(pids):
            cell = cells[(p, m)]
            if cell["cost_usd"] is not None:
                out[i, j] = cell["cost_usd"]
            elif price is not None and (
                cell["input_tokens"] is not None or cell["output_tokens"] is not None
            ):
                out[i, j] = price.cost(cell["input_tokens"] or 0.0, cell["output_tokens"] or 0.0)
    if np.isnan(out).all():
        notes.append("no cost_usd or priced tokens: cost is the share of calls to the top model")
        return None
    if np.isnan(out).any():
        lacking = [models[j] for j in range(len(models)) if np.isnan(out[:, j]).any()]
        notes.append(
            f"cost unknown for some rows of {', '.join(lacking)} (no cost_usd, no priced tokens): "
            "cost is the share of calls to the top model"
        )
        return None
    return out


def _ladder(models, quality, cost, ladder, source) -> list[int]:
    if ladder:
        unknown = [m for m in ladder if m not in models]
        if unknown or len(set(ladder)) != len(models):
            raise OutcomeError(
                source, f"--ladder must list each model once: {', '.join(models)} (got {', '.join(ladder)})"
            )
        return [models.index(m) for m in ladder]
    q = quality.mean(axis=0)
    c = cost.mean(axis=0) if cost is not None else q
    return sorted(range(len(models)), key=lambda j: (c[j], q[j], models[j]))


def _optional(values: np.ndarray, name: str, notes: list[str]) -> np.ndarray | None:
    if np.isnan(values).all():
        return None
    if np.isnan(values).any():
        notes.append(f"{name} is missing on some rows: ignored")
        return None
    return values


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip() if not isinstance(value, str) else value.strip()


def _nan(value: float | None) -> float:
    return math.nan if value is None else value


def _number(value: Any, source: str, n: int, name: str) -> float | None:
    """Parse a numeric cell; empty → None; 'true'/'false' → 1/0 (correctness columns are often booleans)."""
    if value is None or isinstance(value, bool):
        return None if value is None else float(value)
    if isinstance(value, int | float):
        return None if math.isnan(value) else float(value)
    text = str(value).strip()
    if not text:
        return None
    if text.lower() in _BOOLS:
        return _BOOLS[text.lower()]
    try:
        number = float(text)
    except ValueError:
        raise OutcomeError(source, f"row {n}: {name} {text[:40]!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise OutcomeError(source, f"row {n}: {name} {text!r} is not a finite number")
    return number


def _confidence(value: Any, source: str, n: int) -> float | None:
    if isinstance(value, str) and value.strip().lower() in CONFIDENCE_LABELS:
        return CONFIDENCE_LABELS[value.strip().lower()]
    number = _number(value, source, n, "confidence")
    if number is not None and not 0.0 <= number <= 1.0:
        raise OutcomeError(source, f"row {n}: confidence {number:g} is outside 0..1 (or use low/medium/high)")
    return number
