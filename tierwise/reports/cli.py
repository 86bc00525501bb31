"""`tierwise report`: spend per stage, task type and model from the ledger, against the all-Pro counterfactual.

Registered in `tierwise/cli.py`. Mistakes (bad --since, no ledger, empty ledger) print one line, exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer


def report_command(
    since: Annotated[str | None, typer.Option(help="Only calls since a span back (30m, 24h, 7d, 2w) or a UTC "
                                              "date/time (2026-11-01, 2026-11-01T09:00). Default: all.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write a self-contained HTML report here.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Also write a PNG picture here (needs "
                                             "tierwise\\[report]).")] = None,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Ledger URL (sqlite:///PATH, postgresql://...). "
                                               "Default: $TIERWISE_LEDGER_URL, the registry's \\[ledger] url, "
                                               "else the data-dir SQLite file.")] = None,
    registry: Annotated[str | None, typer.Option("--registry", help="A registry TOML merged over the packaged "
                                                 "one.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="label:NAME: spend, remaining budget and refusals per "
                                           "value of a request label, e.g. --by label:user.")] = None,
) -> None:
    """Spend per stage, task type and model: calls, tokens, dollars, latency, escalations, failures."""
    from tierwise.errors import TierwiseError
    from tierwise.ledger.since import parse_since
    from tierwise.ledger.url import open_ledger, resolve_url
    from tierwise.outputs import atomic_path, check_output, write_atomic

    from .html import render_html
    from .report import build_report
    from .tenants import parse_by, render_rows, tenant_rows

    try:
        start = parse_since(since) if since is not None else None
        label_key = parse_by(by) if by is not None else None
        ledger_file = _sqlite_file(ledger)
        if html is not None:
            check_output(html, option="--html", inputs=[registry, ledger_file], suffixes=(".html", ".htm"))
        if png is not None:
            check_output(png, option="--png", inputs=[registry, ledger_file], suffixes=(".png",))
        from tierwise.tiers import build_registry

        reg = build_registry(registry)
        hint = _stand_in_hint(ledger, reg)
        try:
            store = open_ledger(resolve_url(ledger, reg), create=False)
        except TierwiseError as exc:
            raise TierwiseError(f"{exc}{hint}") from None
        with store:
            entries = store.entries(since=start)
            pairs = store.shadow_pairs(since=start)
            where = store.url
            if label_key is not None:
                rows = tenant_rows(store, entries, reg, label_key)
    except (TierwiseError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if label_key is not None:
        if as_json:
            typer.echo(json.dumps({"ledger": where, "by": f"label:{label_key}",
                                   "tenants": [r.to_dict() for r in rows]}, indent=2, ensure_ascii=False))
        elif not rows:
            typer.echo(f"no calls carry the label {label_key!r} in {where}")
        else:
            typer.echo(render_rows(label_key, rows))
        return
    if not entries:
        after = f" since {start:%Y-%m-%d %H:%M} UTC" if start is not None else ""
        raise _fail(f"no calls recorded in {where}{after}{hint}")
    report = build_report(entries, ledger=where, since=start, tier_order=reg.data.tier_order, registry=reg,
                          shadow_pairs=pairs)
    try:
        if html is not None:
            write_atomic(html, render_html(report), option="--html")
            typer.echo(f"wrote {html}", err=True)
        if png is not None:
            from .png import render_png

            with atomic_path(png) as tmp:
                render_png(report, tmp)
            typer.echo(f"wrote {png}", err=True)
    except OSError as exc:
        raise _fail(f"cannot write {exc.filename}: {exc.strerror}") from None
    except TierwiseError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        from .text import render_text

        render_text(report)


def _sqlite_file(url: str | None) -> str | None:
    """The file a sqlite:/// ledger URL names (an output must not be it); None for anything else."""
    return url.removeprefix("sqlite:///") if url and url.startswith("sqlite:///") else None


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _stand_in_hint(ledger: str | None, registry: Any) -> str:
    """Where calls answered by a stand-in went, when the report reads the default ledger and that file exists:
    they are kept apart from real spend (tierwise.ledger.url.LedgerPool), so the plain report does not show them."""
    import os

    from tierwise.ledger.url import ENV_URL, STAND_IN_FILE, default_path

    if ledger or os.environ.get(ENV_URL, "").strip() or registry.data.ledger.url.strip():
        return ""
    stand_in = default_path().with_name(STAND_IN_FILE)
    if not stand_in.is_file():
        return ""
    return (f"; calls answered by the local model or the scripted demo are kept apart: "
            f"tierwise report --ledger {stand_in}")
