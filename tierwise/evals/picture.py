"""Quality against cost, one panel per stage, one line per task type through its tiers (cheap → dear), with each
point's confidence interval: where a line goes flat, the dearer tier buys nothing for that task type.

`--html` writes a self-contained file (inline SVG, no scripts, no network); `--png` uses matplotlib (optional:
`tierwise[report]`). The numbers are embedded too (HTML: a JSON script block; PNG: text metadata `tierwise-eval`).
"""

from __future__ import annotations

import json
from collections import defaultdict
from html import escape
from pathlib import Path

from tierwise.errors import EvalError
from tierwise.money import usd
from tierwise.reports.palette import CYCLE

from .stats import Interval
from .summary import TierRow

WIDTH, HEIGHT = 560, 320
LEFT, RIGHT, TOP, BOTTOM = 60, 130, 28, 44


def _series(rows: list[TierRow]) -> dict[str, dict[str, list[TierRow]]]:
    """stage → task type → rows (tiers cheap first)."""
    out: dict[str, dict[str, list[TierRow]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r.quality is not None:
            out[r.stage][r.task_type].append(r)
    return out


def _quality(row: TierRow) -> Interval:
    """A plotted row's quality interval (_series keeps only rows that have one)."""
    if row.quality is None:
        raise EvalError(f"{row.stage}/{row.task_type}/{row.tier}: no quality to plot")
    return row.quality


def render_html(rows: list[TierRow], title: str = "tierwise eval") -> str:
    panels = "".join(_svg(stage, lines) for stage, lines in _series(rows).items())
    data = json.dumps([r.to_dict() for r in rows]).replace("</", "<\\/")
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title><style>"
            "body{font:14px system-ui,sans-serif;margin:24px auto;max-width:1200px;color:#222}"
            "svg{width:560px;max-width:100%;height:auto;margin:8px}</style></head><body>"
            f"<h1>{escape(title)}: quality vs cost per case</h1>{panels}"
            f'<script type="application/json" id="tierwise-eval">{data}</script></body></html>')


def _svg(stage: str, lines: dict[str, list[TierRow]]) -> str:
    points = [r for rows in lines.values() for r in rows]
    top_cost = max(r.cost_per_case_usd for r in points) * 1.1 or 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(cost: float) -> float:
        return LEFT + plot_w * cost / top_cost

    def y(quality: float) -> float:
        return TOP + plot_h * (1 - quality)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(stage)}: quality vs cost"><text x="{LEFT}" y="16" font-size="13" '
             f'font-weight="bold">stage {escape(stage)}</text>']
    for q in (0.0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(q):.1f}" y2="{y(q):.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y(q) + 4:.1f}" text-anchor="end" font-size="10">{q:.2f}</text>')
    for i in range(5):
        cost = top_cost * i / 4
        parts.append(f'<text x="{x(cost):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                     f'font-size="10">{escape(usd(cost))}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2}" y="{HEIGHT - 6}" text-anchor="middle" font-size="11">'
                 f'cost per case</text>')
    for j, (task_type, rows) in enumerate(lines.items()):
        colour = CYCLE[j % len(CYCLE)]
        path = " ".join(f"{x(r.cost_per_case_usd):.1f},{y(_quality(r).mean):.1f}" for r in rows)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for r in rows:
            quality = _quality(r)
            cx, cy = x(r.cost_per_case_usd), y(quality.mean)
            tip = f"{task_type} · {r.tier}: quality {quality.mean:.2f} [{quality.lo:.2f}, {quality.hi:.2f}], " \
                  f"{usd(r.cost_per_case_usd)}/case, n={r.n}"
            parts.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(quality.lo):.1f}" y2="{y(quality.hi):.1f}" '
                         f'stroke="{colour}"/><circle cx="{cx:.1f}" cy="{cy:.1f}" r="4" fill="{colour}">'
                         f'<title>{escape(tip)}</title></circle><text x="{cx + 6:.1f}" y="{cy - 6:.1f}" '
                         f'font-size="10">{escape(r.tier)}</text>')
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{TOP + 16 * j}" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{WIDTH - RIGHT + 26}" y="{TOP + 16 * j + 9}" font-size="11">{escape(task_type)}'
                     f'</text>')
    parts.append("</svg>")
    return "".join(parts)


def _plain(text: str) -> str:
    """Matplotlib reads text between two `$` as math (and fails on a stray one): escape dollars."""
    return str(text).replace("$", r"\$")


def render_png(rows: list[TierRow], path: str | Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise EvalError("--png needs matplotlib: pip install 'tierwise[report]' (or use --html)") from None
    series = _series(rows)
    if not series:
        raise EvalError("--png: nothing to draw (no scored cases)")
    fig, axes = plt.subplots(1, len(series), figsize=(5.5 * len(series), 4.2), squeeze=False)
    try:
        for ax, (stage, lines) in zip(axes[0], series.items(), strict=True):
            for j, (task_type, points) in enumerate(lines.items()):
                xs = [r.cost_per_case_usd for r in points]
                intervals = [_quality(r) for r in points]
                ys = [q.mean for q in intervals]
                errors = [[q.mean - q.lo for q in intervals], [q.hi - q.mean for q in intervals]]
                ax.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, color=CYCLE[j % len(CYCLE)],
                            label=_plain(task_type))
                for r, px, py in zip(points, xs, ys, strict=True):
                    ax.annotate(_plain(r.tier), (px, py), textcoords="offset points", xytext=(5, 5), fontsize=8)
            ax.set_title(_plain(f"stage {stage}"))
            ax.set_xlabel("cost per case (USD)")
            ax.set_ylabel("quality")
            ax.set_ylim(-0.05, 1.05)
            ax.legend(fontsize=8)
        fig.suptitle("tierwise eval: quality vs cost")
        fig.tight_layout()
        fig.savefig(path, dpi=110, metadata={"tierwise-eval": json.dumps([r.to_dict() for r in rows])})
    finally:  # an OSError goes to the caller as is: it decides where the picture goes instead
        plt.close(fig)
