"""Dollar amounts as people read them: cents for caps and totals, more digits for sub-cent calls."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable


def usd(amount: float) -> str:
    if amount == 0 or abs(amount) >= 1:
        return f"${amount:,.2f}"
    if abs(amount) >= 0.01:
        return f"${amount:.4f}"
    return f"${amount:.6f}"


def usd_column(amounts: Iterable[float]) -> Callable[[float], str]:
    """One format for a whole table column, so its decimal points line up."""
    top = max((abs(a) for a in amounts), default=0.0)
    digits = 2 if top >= 100 else 4 if top >= 1 else 6
    return lambda amount: f"${amount:,.{digits}f}"


def pct(share: float) -> str:
    return f"{share * 100:.1f}%"


def nice_ticks(top: float, count: int = 4) -> tuple[list[float], Callable[[float], str]]:
    """Axis ticks from 0 at a round step (1, 2, 2.5 or 5 × 10^k) covering `top`, and their label format."""
    if top <= 0:
        return [0.0, 1.0], lambda v: f"${v:.0f}"
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    ticks = [step * i for i in range(math.ceil(top / step - 1e-9) + 1)]
    digits = max(0, -math.floor(math.log10(step)))
    if abs(step * 10**digits - round(step * 10**digits)) > 1e-9:
        digits += 1
    return ticks, lambda v: f"${v:,.{digits}f}"
