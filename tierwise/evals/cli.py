"""`tierwise eval` and `tierwise suggest`. Registered in tierwise/cli.py; heavy imports wait until a command runs.

Mistakes (a bad cases file, an unknown stage or tier, no ledger) print one line `error: ...` and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .errors import EvalError

RegistryOpt = Annotated[str | None, typer.Option("--registry", help="A registry TOML merged over the packaged one.")]


def eval_command(
    cases: Annotated[Path, typer.Option("--cases", help="JSONL, one case per line: input, and optionally id, "
                                        "task_type, reference, checker (exact|regex|json_schema|judge), pattern, "
                                        "schema, state, messages.")],
    stages: Annotated[str, typer.Option(help="Comma-separated stages to run on each case.")] = "draft",
    tiers: Annotated[str | None, typer.Option(help="Comma-separated tiers to compare. Default: every tier.")] = None,
    judge_tier: Annotated[str | None, typer.Option(help="Tier of the LLM judge (checker 'judge'). Default: the "
                                                   "registry's \\[evals] judge_tier, else the judge stage's.")] = None,
    out: Annotated[Path, typer.Option("--out", help="Outcome table of every answer (CSV, JSONL or Parquet; "
                                      "tierwise/routing/FORMAT.md), read by `tierwise suggest --evals` and "
                                      "`tierwise calibrate`.")] = Path("tierwise-eval.csv"),
    html: Annotated[Path | None, typer.Option("--html", help="Also write quality vs cost as self-contained "
                                              "HTML.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="Also write quality vs cost as a PNG (needs "
                                             "tierwise\\[report]).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Model calls in flight at once.")] = 4,
    backend: Annotated[str, typer.Option(help="auto | gemini | local | scripted (see `tierwise run`).")] = "auto",
    base_url: Annotated[str | None, typer.Option(help="A Gemini-compatible endpoint.")] = None,
    registry: RegistryOpt = None,
) -> None:
    """Run stages on each tier over your cases: quality (with its interval), cost and p50 latency per tier."""
    from tierwise.context import Context
    from tierwise.errors import TierwiseError
    from tierwise.tiers import build_registry

    from .cases import load_cases
    from .outcomes import write_outcomes
    from .picture import render_html, render_png
    from .runner import run_eval
    from .summary import summarize

    try:
        if backend not in ("auto", "gemini", "local", "scripted"):
            raise EvalError(f"--backend: unknown backend {backend!r}; choose auto, gemini, local or scripted")
        reg = build_registry(registry)
        loaded = load_cases(cases)
        chosen_tiers = _names(tiers) if tiers else list(reg.data.tier_order)
        context = Context(backend=backend, base_url=base_url, registry_path=registry)
        run = run_eval(loaded, _names(stages), chosen_tiers, registry=reg, context=context, judge_tier=judge_tier,
                       concurrency=concurrency)
        rows = summarize(run, reg)
        written = write_outcomes(run, out)
        typer.echo(f"wrote {written}", err=True)
        if html is not None:
            _write(html, render_html(rows))
            typer.echo(f"wrote {html}", err=True)
        if png is not None:
            render_png(rows, png)
            typer.echo(f"wrote {png}", err=True)
    except TierwiseError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"run_id": run.run_id, "rows": [r.to_dict() for r in rows], "notes": run.notes,
                               "spend_usd": sum(o.cost_usd for o in run.outcomes),
                               "judge_spend_usd": run.judge_cost_usd}, indent=2))
    else:
        from .table import render_eval

        render_eval(rows, run)


def suggest_command(
    window: Annotated[str, typer.Option(help="Traffic and shadow pairs of this span back (30m, 24h, 7d, 2w) or "
                                        "since a UTC date.")] = "7d",
    evals: Annotated[list[Path] | None, typer.Option("--evals", help="An outcome table written by `tierwise "
                                                     "eval` (repeatable).")] = None,
    out: Annotated[Path, typer.Option("--out", help="Where the suggested registry overrides go (never your "
                                      "registry itself).")] = Path("tierwise.suggested.toml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the suggestions as JSON.")] = False,
    ledger: Annotated[str | None, typer.Option("--ledger", help="Ledger URL. Default: $TIERWISE_LEDGER_URL, the "
                                               "registry's \\[ledger] url, else the data-dir SQLite file.")] = None,
    registry: RegistryOpt = None,
) -> None:
    """Suggest moving task types up or down a tier, from traffic, shadow verdicts and eval results.

    Per stage × task type: error and escalation rates, spend, the quality gap to each tier and its sample size;
    the expected dollar and quality change of a move, or "too few samples". Moves are written as a registry
    override file for review, never applied."""
    from tierwise.errors import TierwiseError
    from tierwise.ledger.since import parse_since
    from tierwise.ledger.url import resolve_url
    from tierwise.tiers import build_registry

    from .outcomes import read_eval_rows
    from .overrides import override_text, write_overrides
    from .suggest import suggest

    try:
        since = parse_since(window).replace(microsecond=0)
        reg = build_registry(registry)
        rows = read_eval_rows(evals or [])
        entries, pairs, where = _read_ledger(resolve_url(ledger, reg), since, required=not rows)
        suggestions = suggest(reg, entries, pairs, rows)
        if not suggestions:
            raise EvalError(f"nothing to go on: no calls or shadow pairs in {where} since {since:%Y-%m-%d %H:%M} "
                            "UTC, and no --evals results")
        written = None
        if any(s.moves for s in suggestions):
            written = write_overrides(override_text(suggestions, window=window, ledger=where), out, registry)
    except (TierwiseError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"window": window, "ledger": where, "written": str(written) if written else None,
                               "suggestions": [s.to_dict() for s in suggestions]}, indent=2))
        return
    from .suggest_view import render_suggestions

    render_suggestions(suggestions, window)
    if written is not None:
        typer.echo(f"wrote {written}: review it, try it with `tierwise tiers --registry {written}`", err=True)
    else:
        typer.echo("no tier move to suggest: nothing written", err=True)


def _read_ledger(url: str, since, required: bool):
    """Traffic and shadow pairs since `since`; with eval results to go on, a missing ledger is just empty."""
    from tierwise.ledger import LedgerError
    from tierwise.ledger.url import open_ledger

    try:
        with open_ledger(url, create=False) as store:
            return store.entries(since=since), store.shadow_pairs(since=since), store.url
    except LedgerError:
        if required:
            raise
        return [], [], url


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise EvalError(f"cannot write {path}: {exc.strerror or exc}") from None


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)
