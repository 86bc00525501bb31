"""Two tiny inline-SVG charts, so the HTML report needs no JavaScript, no network and no matplotlib."""

from __future__ import annotations

from html import escape

from tierwise.money import nice_ticks, pct, usd

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 70, 150, 16, 48


def stacked_bars(title: str, buckets: list[str], series: dict[str, list[float]], colours: dict[str, str]) -> str:
    """Spend per time bucket, one stacked segment per series; hover a segment for its dollars."""
    totals = [sum(values[i] for values in series.values()) for i in range(len(buckets))]
    ticks, label = nice_ticks(max(totals, default=0.0))
    top = ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(buckets), 1)
    bar_w = max(step * 0.7, 1.0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    for value in ticks:  # y grid and labels
        y = TOP + plot_h - plot_h * value / top
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{label(value)}</text>')
    label_every = max(1, round(len(buckets) / 10))
    for i, bucket in enumerate(buckets):
        x = LEFT + i * step + (step - bar_w) / 2
        y = TOP + plot_h
        for name, values in series.items():
            h = plot_h * values[i] / top
            if h <= 0:
                continue
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                         f'fill="{colours[name]}"><title>{escape(bucket)} · {escape(name)}: '
                         f'{usd(values[i])}</title></rect>')
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" '
                         f'font-size="10">{escape(bucket)}</text>')
    for j, name in enumerate(series):  # legend
        y = TOP + 14 * j
        parts.append(f'<rect x="{WIDTH - RIGHT + 12}" y="{y}" width="10" height="10" fill="{colours[name]}"/>')
        parts.append(f'<text x="{WIDTH - RIGHT + 26}" y="{y + 9}" font-size="11">{escape(name)} '
                     f'{usd(sum(series[name]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def share_bar(title: str, counts: dict[str, int], colours: dict[str, str]) -> str:
    """One 100% bar: the share of calls per tier, labelled with percent and count."""
    total = sum(counts.values()) or 1
    height = 64
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>']
    x, slot = 0.0, WIDTH / max(len(counts), 1)
    for j, (name, count) in enumerate(counts.items()):
        w = WIDTH * count / total
        label = f"{name} {pct(count / total)} ({count})"
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="36" fill="{colours[name]}">'
                     f"<title>{escape(label)}</title></rect>")
        # Labels sit in even slots under the bar, so a thin segment's label never overlaps its neighbour's.
        parts.append(f'<rect x="{j * slot:.1f}" y="45" width="10" height="10" fill="{colours[name]}"/>')
        parts.append(f'<text x="{j * slot + 14:.1f}" y="54" font-size="12">{escape(label)}</text>')
        x += w
    parts.append("</svg>")
    return "".join(parts)
