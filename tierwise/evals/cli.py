"""`tierwise eval` and `tierwise suggest`. Registered in tierwise/cli.py; heavy imports wait until a command runs.

Mistakes (a bad cases file, an unknown stage or tier, no ledger) print one line `error: ...` and exit 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tierwise.errors import EvalError

if TYPE_CHECKING:  # only annotations: the command imports its modules when it runs
    from tierwise.ledger import LedgerEntry, ShadowPair

    from .runner import EvalRun
    from .summary import TierRow

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
    backend: Annotated[str, typer.Option(help="auto | gemini | vertex | local | scripted (see `tierwise run`)."
                                         )] = "auto",
    base_url: Annotated[str | None, typer.Option(help="A Gemini-compatible endpoint.")] = None,
    registry: RegistryOpt = None,
) -> None:
    """Run stages on each tier over your cases: quality (with its interval), cost and p50 latency per tier."""
    from tierwise.context import Context, is_backend
    from tierwise.errors import TierwiseError
    from tierwise.tiers import build_registry

    from .cases import load_cases
    from .runner import run_eval
    from .summary import summarize

    lock = None
    try:
        if not is_backend(backend):
            raise EvalError(f"--backend: unknown backend {backend!r}; choose auto, gemini, vertex, local or scripted")
        _check_outputs(out, html, png, inputs=[cases, registry])  # before any call is paid for
        from tierwise.locks import OutputLock

        lock = OutputLock(out, what=f"--out {out}").acquire()  # one writer per outcome table, until it is saved
        reg = build_registry(registry)
        loaded = load_cases(cases)
        chosen_tiers = _names(tiers) if tiers else list(reg.data.tier_order)
        from tierwise.runtime import command_runtime

        rt, _ = command_runtime(backend, base_url)
        context = Context(backend=backend, base_url=base_url, registry_path=registry)
        with rt:
            run = run_eval(loaded, _names(stages), chosen_tiers, registry=reg, context=context,
                           judge_tier=judge_tier, concurrency=concurrency, runtime=rt)
        rows = summarize(run, reg)
    except TierwiseError as exc:
        if lock is not None:
            lock.release()
        raise _fail(str(exc)) from None
    try:
        trouble = _save(run, rows, out, html, png)
    finally:
        lock.release()
    if as_json:
        typer.echo(json.dumps({"run_id": run.run_id, "rows": [r.to_dict() for r in rows], "notes": run.notes,
                               "spend_usd": sum(o.cost_usd for o in run.outcomes),
                               "judge_spend_usd": run.judge_cost_usd}, indent=2))
    else:
        from .table import render_eval

        render_eval(rows, run)
    if trouble:
        raise typer.Exit(1)


def _check_outputs(out: Path, html: Path | None, png: Path | None, inputs: list[Path | str | None]) -> None:
    """Every output path, and what its writer needs, checked before the first model call."""
    import importlib.util

    from tierwise.outputs import check_output
    from tierwise.routing.formats import FORMATS

    check_output(out, option="--out", inputs=inputs, suffixes=tuple(FORMATS), make_parents=True)
    if FORMATS[out.suffix.lower()] == "parquet" and importlib.util.find_spec("pyarrow") is None:
        raise EvalError(f"--out {out}: writing Parquet needs pyarrow (pip install 'tierwise[parquet]'), "
                        "or use .csv / .jsonl")
    if html is not None:
        check_output(html, option="--html", inputs=inputs, suffixes=(".html", ".htm"))
    if png is not None:
        check_output(png, option="--png", inputs=inputs, suffixes=(".png",))
        if importlib.util.find_spec("matplotlib") is None:
            raise EvalError("--png needs matplotlib: pip install 'tierwise[report]' (or use --html)")


def _save(run: EvalRun, rows: list[TierRow], out: Path, html: Path | None, png: Path | None) -> list[str]:
    """Write every output; one that fails now (a full disk, a folder gone) goes to a fallback file, and we say
    where: these results are paid for. Returns what went wrong."""
    from tierwise.errors import TierwiseError
    from tierwise.outputs import save_with_fallback
    from tierwise.routing.formats import write_rows

    from .outcomes import COLUMNS, outcome_rows
    from .picture import render_html, render_png

    jobs: list[tuple[Path, str, Callable[[Path], object]]] = [
        (out, "the outcome table", lambda tmp: write_rows(tmp, outcome_rows(run), COLUMNS))]
    if html is not None:
        jobs.append((html, "the HTML picture", lambda tmp: tmp.write_text(render_html(rows), encoding="utf-8")))
    if png is not None:
        jobs.append((png, "the PNG picture", lambda tmp: render_png(rows, tmp)))
    trouble = []
    for path, what, write in jobs:
        try:
            where, note = save_with_fallback(path, write, what=what)
        except TierwiseError as exc:
            trouble.append(str(exc))
            typer.echo(f"error: {exc}", err=True)
            continue
        if note:
            trouble.append(note)
            typer.echo(f"warning: {note}", err=True)
        typer.echo(f"wrote {where}", err=True)
    return trouble


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
    from tierwise.outputs import check_output
    from tierwise.tiers import build_registry

    from .outcomes import read_eval_rows
    from .overrides import override_text, write_overrides
    from .suggestions import suggest

    try:
        since = parse_since(window, option="--window").replace(microsecond=0)
        check_output(out, option="--out", inputs=evals or [], suffixes=(".toml",))  # registry: write_overrides
        reg = build_registry(registry)
        rows = read_eval_rows(evals or [])
        entries, pairs, where = _read_ledger(resolve_url(ledger, reg), since, required=not rows)
        suggestions = suggest(reg, entries, pairs, rows)
        from .learn import retrain_advice

        advice = retrain_advice(reg, entries, pairs)
        if not suggestions and not (advice and advice["new_labels"]):
            raise EvalError(f"nothing to go on: no calls or shadow pairs in {where} since {since:%Y-%m-%d %H:%M} "
                            "UTC, and no --evals results")
        written = None
        if any(s.moves for s in suggestions):
            written = write_overrides(override_text(suggestions, window=window, ledger=where), out, registry)
    except (TierwiseError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps({"window": window, "ledger": where, "written": str(written) if written else None,
                               "suggestions": [s.to_dict() for s in suggestions], "router": advice}, indent=2))
        return
    from .suggestions_view import render_suggestions

    render_suggestions(suggestions, window)
    if written is not None:
        typer.echo(f"wrote {written}: review it, try it with `tierwise tiers --registry {written}`", err=True)
    else:
        typer.echo("no tier move to suggest: nothing written", err=True)
    if advice is not None:
        typer.echo(_advice_line(advice), err=True)


def _advice_line(advice: dict[str, Any]) -> str:
    signals = ", ".join(f"{n} {s}" for s, n in advice["signals"].items() if n)
    since = f"since it was trained ({advice['labels_until'][:16]})" if advice["labels_until"] else "in the window"
    head = f"router ({advice['router']}): {advice['new_labels']} new labels {since}" + (f" — {signals}" if signals
                                                                                          else "")
    if advice["retrain"]:
        return head + ": a retrain should pay — tierwise router train --from-ledger --out router.json"
    return head + f"; a retrain pays from {advice['retrain_labels']} ([router] retrain_labels)"


def _read_ledger(url: str, since: datetime, required: bool) -> tuple[list[LedgerEntry], list[ShadowPair], str]:
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


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)
