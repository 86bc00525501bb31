"""`tierwise eval` in the terminal: one row per stage × task type × tier, the difference and its uncertainty."""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from tierwise.money import usd, usd_column

from .runner import EvalRun
from .summary import TierRow


def render_eval(rows: list[TierRow], run: EvalRun, console: Console | None = None) -> None:
    console = console or (Console() if sys.stdout.isatty() else Console(width=160))
    level = next((r.quality.level for r in rows if r.quality), 0.95)
    cases = len({o.case.id for o in run.outcomes})
    from rich.markup import escape as esc  # stage, task type and tier names come from user files

    table = Table(title=esc(f"eval: {cases} cases · stages {', '.join(run.stages)} · tiers {', '.join(run.tiers)}"),
                  title_justify="left")
    for name in ("stage", "task type", "tier"):
        table.add_column(name, no_wrap=True)
    for name in ("n", f"quality ({level:.0%} CI)", f"Δ quality vs baseline ({level:.0%} CI)", "cost/case",
                 "cost", "p50 ms", "failed"):
        table.add_column(name, justify="right", no_wrap=True)
    money = usd_column([r.cost_usd for r in rows])
    for r in rows:
        q = f"{r.quality.mean:.2f} [{r.quality.lo:.2f}, {r.quality.hi:.2f}]" if r.quality else "—"
        if r.diff is None:
            diff = f"({r.baseline}: baseline)" if r.tier == r.baseline else "—"
        else:
            sure = " *" if r.diff.excludes_zero else ""
            diff = f"{r.diff.mean:+.2f} [{r.diff.lo:+.2f}, {r.diff.hi:+.2f}] vs {r.baseline}{sure}"
        table.add_row(*map(esc, (r.stage, r.task_type, r.tier, str(r.n), q, diff, usd(r.cost_per_case_usd),
                                 money(r.cost_usd), f"{r.p50_latency_ms:,.0f}", str(r.failures))))
    console.print(table)
    console.print("Δ: this tier's mean quality minus the baseline's on the same cases (the baseline is the tier the "
                  "registry runs the stage on for that task type); * : the interval excludes 0.", highlight=False)
    total = sum(o.cost_usd for o in run.outcomes)
    console.print(f"spent {usd(total)} on stage calls, {usd(run.judge_cost_usd)} on judge calls", highlight=False)
    for note in run.notes:
        console.print(esc(f"note: {note}"), highlight=False)
