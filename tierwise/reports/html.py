"""`tierwise report --html`: one self-contained file (inline SVG and CSS, no scripts, no network).

The report's numbers are also embedded as JSON (`<script type="application/json" id="tierwise-report">`) so a
dashboard or a test can read them back without scraping the tables.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from html import escape

from tierwise.money import pct, usd, usd_column

from .palette import TIER_COLOURS, colours
from .report import Report, Stats
from .svg import share_bar, stacked_bars
from .text import direct_basis

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px auto;max-width:1100px;color:#222}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px}.muted{color:#666}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}
.card{border:1px solid #ddd;border-radius:8px;padding:10px 14px}
.card b{display:block;font-size:20px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:right}th{background:#f6f6f6}
td:first-child,th:first-child,td.l,th.l{text-align:left}svg{width:100%;height:auto}
"""

COLUMNS = ["calls", "tokens", "thinking", "cost", "all-Pro cost", "p50 ms", "p95 ms", "escalated", "failed"]


def render_html(report: Report) -> str:
    stage_colours = colours(list(report.series.by_stage))
    tier_colours = colours(list(report.series.by_tier), TIER_COLOURS)
    unit = report.series.unit
    period = f"{report.first_call:%Y-%m-%d %H:%M} → {report.last_call:%Y-%m-%d %H:%M} UTC"
    total = report.total
    cards = [
        ("net saving vs one direct Pro call per request",
         f"{usd(report.net_saving_usd)} ({pct(report.net_saving_share)})" if report.direct else "-"),
        ("spent", usd(total.cost_usd)),
        ("one direct Pro call per request", usd(report.direct.cost_usd) if report.direct else "-"),
        ("same calls all on Pro", usd(total.all_pro_cost_usd)),
        ("saving", f"{usd(report.saving_usd)} ({pct(report.saving_share)})"),
        ("calls", f"{total.calls:,}"),
        ("requests", f"{report.requests:,}"),
        ("escalated requests", pct(report.escalated_requests / report.requests)),
    ]
    body = [
        "<h1>tierwise cost report</h1>",
        f'<div class="muted">{escape(report.ledger)} · {escape(period)}</div>',
        '<div class="cards">'
        + "".join(f'<div class="card"><span class="muted">{escape(k)}</span><b>{escape(v)}</b></div>' for k, v in cards)
        + "</div>",
        f'<div class="muted">direct Pro call: {escape(direct_basis(report))}</div>' if report.direct else "",
        f"<h2>Spend by stage per {unit}</h2>",
        stacked_bars(f"Spend by stage per {unit}", report.series.buckets, report.series.by_stage, stage_colours),
        f"<h2>Spend by tier per {unit}</h2>",
        stacked_bars(f"Spend by tier per {unit}", report.series.buckets, report.series.by_tier, tier_colours),
        "<h2>Share of calls per tier</h2>",
        share_bar("Share of calls per tier", {t: s.calls for t, s in report.by_tier.items()}, tier_colours),
        "<h2>Per stage, task type and model</h2>",
        _table(["stage", "task type", "model", "tier"],
               [([r.stage, r.task_type, r.model, r.tier], r.stats) for r in report.rows], total),
        "<h2>Per stage</h2>", _table(["stage"], [([k], s) for k, s in report.by_stage.items()]),
        "<h2>Per tier</h2>", _table(["tier"], [([k], s) for k, s in report.by_tier.items()]),
        "<h2>Per task type</h2>", _table(["task type"], [([k], s) for k, s in report.by_task_type.items()]),
        "<h2>Per model</h2>", _table(["model"], [([k], s) for k, s in report.by_model.items()]),
        '<script type="application/json" id="tierwise-report">'
        + json.dumps(report.to_dict()).replace("</", "<\\/")
        + "</script>",
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>tierwise cost report · {escape(period)}</title><style>{CSS}</style></head><body>"
        + "\n".join(body)
        + "</body></html>\n"
    )


def _table(keys: list[str], rows: list[tuple[list[str], Stats]], total: Stats | None = None) -> str:
    head = "".join(f'<th class="l">{escape(k)}</th>' for k in keys) + "".join(f"<th>{c}</th>" for c in COLUMNS)
    lines = [f"<table><thead><tr>{head}</tr></thead><tbody>"]
    money = usd_column([s.all_pro_cost_usd for _, s in rows] + ([total.all_pro_cost_usd] if total else []))
    for names, stats in rows:
        lines.append("<tr>" + "".join(f'<td class="l">{escape(n)}</td>' for n in names) + _cells(stats, money)
                     + "</tr>")
    if total is not None:
        pad = "".join("<td></td>" for _ in keys[1:])
        lines.append(f"<tr><th>total</th>{pad}{_cells(total, money, tag='th')}</tr>")
    lines.append("</tbody></table>")
    return "".join(lines)


def _cells(s: Stats, money: Callable[[float], str], tag: str = "td") -> str:
    values = [f"{s.calls:,}", f"{s.tokens:,}", f"{s.thinking_tokens:,}", money(s.cost_usd), money(s.all_pro_cost_usd),
              f"{s.p50_latency_ms:,.0f}", f"{s.p95_latency_ms:,.0f}", pct(s.escalation_rate), pct(s.failure_rate)]
    return "".join(f"<{tag}>{v}</{tag}>" for v in values)
