"""`tierwise report --png`: the same pictures as the HTML, drawn by matplotlib (optional: `tierwise[report]`).

The report's totals are written into the PNG's text metadata (key `tierwise-report`), so the numbers travel
with the picture.
"""

from __future__ import annotations

import json
from pathlib import Path

from tierwise.errors import LedgerError
from tierwise.money import pct, usd

from .palette import TIER_COLOURS, colours
from .report import Report


def _plain(text: str) -> str:
    """Matplotlib reads text between two `$` as math: escape dollars."""
    return text.replace("$", r"\$")


def render_png(report: Report, path: str | Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")  # no display needed
        import matplotlib.pyplot as plt
    except ImportError:
        raise LedgerError("--png needs matplotlib: pip install 'tierwise[report]' (or use --html)") from None
    series = report.series
    fig, axes = plt.subplots(3, 1, figsize=(11, 10), gridspec_kw={"height_ratios": [3, 3, 1]})
    try:
        for ax, title, data, fixed in (
            (axes[0], "Spend by stage", series.by_stage, None),
            (axes[1], "Spend by tier", series.by_tier, TIER_COLOURS),
        ):
            palette = colours(list(data), fixed)
            bottom = [0.0] * len(series.buckets)
            for name, values in data.items():
                label = _plain(f"{name} {usd(sum(values))}")
                ax.bar(series.buckets, values, bottom=bottom, color=palette[name], label=label)
                bottom = [b + v for b, v in zip(bottom, values, strict=True)]
            ax.set_title(f"{title} per {series.unit} (UTC)")
            ax.set_ylabel("USD")
            ax.legend(loc="upper left", fontsize=8)
            ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        palette = colours(list(report.by_tier), TIER_COLOURS)
        left = 0.0
        for tier, share in report.tier_share().items():
            axes[2].barh([0], [share], left=left, color=palette[tier], label=_plain(f"{tier} {pct(share)}"))
            left += share
        axes[2].set_xlim(0, 1)
        axes[2].xaxis.set_major_formatter(lambda x, _pos: f"{x:.0%}")
        axes[2].set_yticks([])
        axes[2].set_title("Share of calls per tier")
        axes[2].legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=max(len(report.by_tier), 1), fontsize=8)
        total = report.total
        fig.suptitle(_plain(f"tierwise: {usd(total.cost_usd)} spent, {usd(total.all_pro_cost_usd)} all on Pro "
                            f"(saving {pct(report.saving_share)}) · {total.calls:,} calls"))
        fig.tight_layout()
        summary = {k: v for k, v in report.to_dict().items() if k not in ("rows", "series")}
        fig.savefig(path, dpi=110, metadata={"tierwise-report": json.dumps(summary)})
    finally:
        plt.close(fig)
