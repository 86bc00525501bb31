"""`tierwise report --by label:KEY`: spend, remaining budget and refusals per tenant (each value of label KEY).

Today's and this month's spend and today's refusals come from the counters the caps are checked against
(`tierwise_spend`), so the figures are the ones the spend guard acts on; the window's spend (`--since`) comes
from the stored rows. A label value is shown as the text it is: never markup, never a path.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from tierwise.inputs import REQUEST_LABEL_KEY
from tierwise.ledger import Ledger, LedgerEntry
from tierwise.ledger.periods import utc
from tierwise.tiers import Registry


@dataclass(frozen=True)
class TenantRow:
    value: str
    calls: int  # in the report's window
    cost_usd: float  # in the report's window
    day_usd: float
    month_usd: float
    refused_today: int
    hard_daily_usd: float | None
    hard_monthly_usd: float | None
    remaining_today_usd: float | None  # None: no hard daily cap
    remaining_month_usd: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_by(by: str) -> str:
    """`label:KEY` → KEY, or a ValueError in the user's terms."""
    kind, sep, key = by.partition(":")
    if kind != "label" or not sep or not REQUEST_LABEL_KEY.fullmatch(key):
        raise ValueError(f"--by {by!r}: write label:NAME, e.g. --by label:user")
    return key


def tenant_rows(ledger: Ledger, entries: Sequence[LedgerEntry], registry: Registry, key: str,
                at: datetime | None = None) -> list[TenantRow]:
    """One row per value of label `key` seen in `entries` or counted today/this month, biggest spender first."""
    totals = ledger.label_totals(key, utc(at))
    window: dict[str, list[LedgerEntry]] = {}
    for entry in entries:
        value = entry.labels.get(key)
        if value is not None:
            window.setdefault(value, []).append(entry)
    budget = registry.data.budget.per_label.get(key)
    rows = []
    for value in set(totals) | set(window):
        counted = totals.get(value, {})
        caps = budget.caps_for(value) if budget is not None else None
        day, month = float(counted.get("day_usd", 0.0)), float(counted.get("month_usd", 0.0))
        daily = caps.hard_daily_usd if caps else None
        monthly = caps.hard_monthly_usd if caps else None
        rows.append(TenantRow(
            value=value, calls=len(window.get(value, [])),
            cost_usd=round(math.fsum(e.cost_usd for e in window.get(value, [])), 10),
            day_usd=day, month_usd=month, refused_today=int(counted.get("refused_today", 0)),
            hard_daily_usd=daily, hard_monthly_usd=monthly,
            remaining_today_usd=None if daily is None else round(max(0.0, daily - day), 10),
            remaining_month_usd=None if monthly is None else round(max(0.0, monthly - month), 10)))
    return sorted(rows, key=lambda r: (-r.cost_usd, -r.day_usd, r.value))


def render_rows(key: str, rows: Sequence[TenantRow]) -> str:
    """A plain-text table (no markup: a label value is printed as the characters it is)."""
    def money(value: float | None) -> str:
        return "-" if value is None else f"${value:.4f}"

    head = (key, "calls", "spent", "today", "left today", "this month", "left month", "refused today")
    lines = [head] + [(r.value, str(r.calls), money(r.cost_usd), money(r.day_usd), money(r.remaining_today_usd),
                       money(r.month_usd), money(r.remaining_month_usd), str(r.refused_today)) for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                               enumerate(zip(line, widths, strict=True))).rstrip() for line in lines)
