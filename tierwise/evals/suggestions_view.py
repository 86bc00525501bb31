"""`tierwise suggest` in the terminal: per stage × task type, the traffic facts, the evidence and the verdict."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape as esc  # stage and task type names come from requests and user files
from rich.table import Table

from tierwise.money import pct, usd

from .suggestions import Suggestion


def render_suggestions(suggestions: list[Suggestion], window: str, console: Console | None = None) -> None:
    console = console or (Console() if sys.stdout.isatty() else Console(width=200))
    table = Table(title=esc(f"tier suggestions (traffic of the last {window})"), title_justify="left")
    for name in ("stage", "task type", "tier"):
        table.add_column(name, no_wrap=True)
    for name in ("calls", "errors", "escalated", "spend", "samples", "suggestion", "Δ quality", "Δ cost",
                 "confidence"):
        table.add_column(name, justify="right", no_wrap=True)
    for s in suggestions:
        samples = ", ".join(f"{e.n} {e.source} vs {e.tier}" for e in s.evidence) or "0"
        q = s.quality_change
        verdict = f"{s.action} → {s.target}" if s.moves else s.action
        table.add_row(*map(esc, (
            s.stage, s.task_type or "(none)", s.current, f"{s.calls:,}", pct(s.error_rate), pct(s.escalation_rate),
            usd(s.spend_usd), samples, verdict, f"{q.mean:+.2f} [{q.lo:+.2f}, {q.hi:+.2f}]" if q else "—",
            _cost(s), f"{s.confidence:.2f}" if s.confidence is not None else "—",
        )))
    console.print(table)
    for s in suggestions:
        console.print(esc(f"{s.stage} × {s.task_type or '(none)'}: {s.reason}"), highlight=False, soft_wrap=True)


def _cost(s: Suggestion) -> str:
    if s.usd_change is None:
        return "—"
    sign = "+" if s.usd_change >= 0 else "-"
    if s.calls:
        return f"{sign}{usd(abs(s.usd_change))}"
    per = s.usd_change_per_call or 0.0
    return f"{'+' if per >= 0 else '-'}{usd(abs(per))}/call"
