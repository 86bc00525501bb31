"""`tierwise report` in the terminal: one table per stage × task type × model, then the totals."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.markup import escape as esc  # task types, model ids, paths: stored by any caller, never markup
from rich.table import Table

from tierwise.money import pct, usd, usd_column

from .report import Report


def render_text(report: Report, console: Console | None = None) -> None:
    # Piped output gets a fixed wide console: a squeezed table would truncate model names.
    console = console or (Console() if sys.stdout.isatty() else Console(width=160))
    console.print(f"{esc(report.ledger)} · {report.first_call:%Y-%m-%d %H:%M} → {report.last_call:%Y-%m-%d %H:%M} UTC",
                  highlight=False, soft_wrap=True)
    table = Table()
    for name in ("stage", "task type", "model", "tier"):
        table.add_column(name, no_wrap=True)
    for name in ("calls", "tokens", "cost USD", "p50 ms", "p95 ms", "escalated", "failed"):
        table.add_column(name, justify="right")
    money = usd_column(r.stats.cost_usd for r in report.rows)
    for r in report.rows:
        s = r.stats
        table.add_row(esc(r.stage), esc(r.task_type), esc(r.model), esc(r.tier), f"{s.calls:,}", f"{s.tokens:,}",
                      money(s.cost_usd),
                      f"{s.p50_latency_ms:,.0f}", f"{s.p95_latency_ms:,.0f}", pct(s.escalation_rate),
                      pct(s.failure_rate))
    console.print(table)
    total = report.total
    if report.direct is not None:
        console.print(
            f"net saving {usd(report.net_saving_usd)} ({pct(report.net_saving_share)}): total {usd(total.cost_usd)} "
            f"vs one direct Pro call per request {usd(report.direct.cost_usd)} ({direct_basis(report)})",
            highlight=False, soft_wrap=True,
        )
    console.print(
        f"same calls all on Pro {usd(total.all_pro_cost_usd)} "
        f"(saving {usd(report.saving_usd)}, {pct(report.saving_share)})   {total.calls:,} calls, "
        f"{report.requests:,} requests, {pct(report.escalated_requests / report.requests)} escalated",
        highlight=False,
    )
    shares = " · ".join(f"{esc(tier)} {pct(share)}" for tier, share in report.tier_share().items())
    console.print(f"calls per tier: {shares}", highlight=False)
    if set(report.by_processing) - {"standard"}:  # some calls went through Batch API jobs: show the split
        split = " · ".join(f"{esc(name)} {usd(s.cost_usd)} over {s.calls:,} calls"
                           for name, s in sorted(report.by_processing.items()))
        console.print(f"processing: {split} (batch: Gemini Batch API jobs, at batch prices)", highlight=False)
    for purpose, stats in report.by_purpose.items():
        console.print(f"{esc(purpose)} calls, not in the totals above: {usd(stats.cost_usd)} over "
                      f"{stats.calls:,} calls", highlight=False)


def direct_basis(report: Report) -> str:
    """Which figures the direct-Pro total rests on: measured shadow calls, the ledger's Pro thinking, defaults."""
    d = report.direct
    if d is None:
        return ""
    parts = []
    if d.measured_requests:
        parts.append(f"measured for {d.measured_requests:,} requests by shadow calls on Pro")
    if d.estimated_requests:
        thinking = ", ".join(
            f"{route} {t['tokens']}" + (f" (median of {t['samples']} Pro calls)" if t["source"] == "ledger"
                                         else " (registry default)")
            for route, t in d.thinking.items())
        parts.append(f"estimated for {d.estimated_requests:,}; Pro thinking tokens per route: {thinking}")
    return "; ".join(parts)
