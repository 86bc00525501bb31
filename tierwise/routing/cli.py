"""`tierwise router train|eval|convert-routellm` and `tierwise calibrate`.

Mounted by tierwise/cli.py: `app.add_typer(router_app, name="router")` and
`app.command("calibrate")(calibrate_command)`. Bad input prints one line `error: FILE: problem` and exits 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, cast

import typer
from rich.markup import escape

from .errors import OutcomeError

router_app = typer.Typer(
    help="Learned pre-router: train it on an outcome table, evaluate it against baselines.",
    no_args_is_help=True,
)

OutcomesOpt = Annotated[
    Path, typer.Option("--outcomes", help="Outcome table: CSV, JSONL or Parquet (FORMAT.md).")
]
TopOpt = Annotated[
    str | None, typer.Option("--top", help="Reference top model (default: the most expensive in the table).")
]
PricesOpt = Annotated[
    Path | None,
    typer.Option("--prices", help="TOML, USD per 1M tokens: prices.MODEL = {input = 0.25, output = 1.5}"),
]
LadderOpt = Annotated[
    str | None, typer.Option("--ladder", help="Comma-separated models, cheapest first (default: by cost).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON instead of tables.")]
ROUTER_SUFFIXES = (".json", ".npz")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


def _guard(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn data errors into one line on stderr and exit code 2 (never a traceback)."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except OutcomeError as exc:
            _fail(str(exc))
        except ValueError as exc:
            _fail(str(exc))

    return wrapper


def _load(outcomes: Path, top: str | None, prices: Path | None, ladder: str | None):
    from .table import load_outcomes

    price_map = None
    if prices is not None:
        if not prices.is_file():
            raise OutcomeError(prices, "no such prices file")
        from tierwise.strict import read_toml

        doc = read_toml(prices, what="prices file")
        price_map = doc.get("prices", doc)
    order = [m.strip() for m in ladder.split(",") if m.strip()] if ladder else None
    return load_outcomes(outcomes, prices=price_map, ladder=order, top=top)


def _console():
    from rich.console import Console

    return Console(file=sys.stdout, width=max(100, Console().width))


def _pct(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.1f}%"


def _num(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def _notes(table) -> None:
    for note in table.notes:
        typer.echo(f"note: {table.source}: {note}", err=True)


def _reference_table(ref: dict[str, Any]):
    from rich.table import Table

    unit = "USD/prompt" if ref["cost_unit"] == "usd" else "top-call share"
    t = Table(title=escape(f"{ref['source']}: {ref['prompts']} prompts, always one model"), title_justify="left")
    t.add_column("model (cheap → top)", no_wrap=True)
    t.add_column("quality", justify="right")
    t.add_column(f"cost ({unit})", justify="right")
    for m in ref["models"]:
        t.add_row(escape(str(m["model"])), f"{m['quality']:.4f}", f"{m['cost']:.6g}")
    return t


def _metrics_table(rows: list[dict[str, Any]], unit: str):
    from rich.table import Table

    t = Table(
        title=f"Routers side by side (cost in {unit} relative to always-top; — = never reached)",
        title_justify="left",
    )
    t.add_column("router", no_wrap=True)
    for name in ("APGR", "CPT50", "CPT80", "top@95", "cost@95", "cost@100", "AIQ", "max q"):
        t.add_column(name, justify="right", no_wrap=True)
    for r in rows:
        t.add_row(
            escape(str(r["router"])),
            _num(r["apgr"]),
            _pct(r["cpt50"]),
            _pct(r["cpt80"]),
            _pct(r["top_share_at_95"]),
            _pct(r["cost_relative_at_95"]),
            _pct(r["cost_relative_at_100"]),
            _num(r["aiq"], 4),
            _num(r["max_quality"], 4),
        )
    return t


OutcomesOrLedgerOpt = Annotated[
    Path | None, typer.Option("--outcomes", help="Outcome table: CSV, JSONL or Parquet (FORMAT.md).")
]  # with --from-ledger instead
FromLedgerOpt = Annotated[
    bool,
    typer.Option("--from-ledger", help="Learn from your own traffic: shadow pairs, judge verdicts, escalations "
                 "(and --evals tables), fine-tuning the router in use."),
]
SinceOpt = Annotated[str, typer.Option("--since", help="--from-ledger: labels of this span back (7d, 30d) or since "
                                       "a UTC date.")]
LedgerOpt = Annotated[str | None, typer.Option("--ledger", help="--from-ledger: ledger URL (default: as `tierwise "
                                               "report`).")]
EvalsOpt = Annotated[list[Path] | None, typer.Option("--evals", help="--from-ledger: also an outcome table written "
                                                     "by `tierwise eval` (repeatable).")]
RegistryOpt = Annotated[str | None, typer.Option("--registry", help="--from-ledger: a registry TOML (its tiers and "
                                                 "[router] model_path).")]
HELD_BACK = 0.25  # share of ledger labels the new router is compared on before it is written


def ledger_source(ctx: typer.Context) -> Callable[..., dict[str, Any]]:
    """The ledger label reader, given by the `tierwise` command (tierwise/cli.py): routing sits below the ledger
    and the evals layer that reads it, so it is handed the reader instead of importing it."""
    obj = ctx.find_root().obj
    source = obj.get("ledger_labels") if isinstance(obj, dict) else None
    if source is None:
        raise OutcomeError("--from-ledger", "reading the ledger needs the `tierwise` command")
    return cast(Callable[..., dict[str, Any]], source)


@router_app.command("train")
@_guard
def train_command(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Router file to write (.json, or .npz for a smaller file).")
    ],
    outcomes: OutcomesOrLedgerOpt = None,
    from_ledger: FromLedgerOpt = False,
    since: SinceOpt = "30d",
    ledger: LedgerOpt = None,
    evals: EvalsOpt = None,
    registry: RegistryOpt = None,
    force: Annotated[bool, typer.Option("--force", help="--from-ledger: write the new router even when it does "
                                        "worse than the current one on held-back traffic.")] = False,
    top: TopOpt = None,
    prices: PricesOpt = None,
    ladder: LadderOpt = None,
    objective: Annotated[
        str,
        typer.Option(
            help="usd: weigh predicted dollars; calls: minimise top-model calls; auto: usd if known."
        ),
    ] = "auto",
    l2: Annotated[float | None, typer.Option(help="L2 strength (default: chosen on a 20% hold-out).")] = None,
    seed: int = 0,
    as_json: JsonOpt = False,
) -> None:
    """Train the learned pre-router on an outcome table (--outcomes) or on your own traffic (--from-ledger), and
    save it (JSON or npz, never pickle)."""
    from tierwise.inputs import check_number
    from tierwise.outputs import check_output

    from .learned import train_router

    if (outcomes is None) == (not from_ledger):
        raise OutcomeError("router train", "give either --outcomes FILE or --from-ledger")
    check_output(out, option="--out", inputs=[outcomes, prices, *(evals or [])], suffixes=ROUTER_SUFFIXES,
                 make_parents=True)
    if l2 is not None:
        check_number(l2, "--l2", low=0)
    if from_ledger:
        _train_from_ledger(ledger_source(ctx), out, since, ledger, evals or [], registry, force, l2, seed, as_json)
        return
    assert outcomes is not None
    table = _load(outcomes, top, prices, ladder)
    _notes(table)
    router = train_router(table, l2=l2, seed=seed, objective=objective)
    router.save(out)
    info = {
        "router": str(out),
        "bytes": out.stat().st_size,
        "models": list(router.models),
        "objective": router.objective,
        **router.meta,
    }
    if as_json:
        typer.echo(json.dumps(info, indent=1))
        return
    console = _console()
    console.print(escape(
        f"trained on {table.n_prompts} prompts × {table.n_models} models "
        f"({' → '.join(router.models)}); objective {router.objective}; l2 {router.meta['l2']}; "
        f"{router.meta['features']} features; wrote {out} ({info['bytes'] / 1024:.0f} KiB)"
    ))


def _train_from_ledger(source: Callable[..., dict[str, Any]], out: Path, since: str, ledger: str | None,
                       evals: list[Path], registry: str | None, force: bool, l2: float | None, seed: int,
                       as_json: bool) -> None:
    """Labels from the ledger → fine-tune the current router on 75% → compare on the held-back 25% → if not
    worse (or --force), fine-tune on every label and write."""
    from .adapt import compare, split_held_back, tune_router

    found = source(since=since, ledger=ledger, evals=evals, registry=registry)
    labels, current = found["labels"], found["current"]
    train, back = split_held_back(labels, HELD_BACK, seed)
    candidate = tune_router(labels.subset(train), current, l2=l2, seed=seed)
    rows = compare(labels.subset(back), {"current": current, "new": candidate})
    better, judged_by = _not_worse(rows[0], rows[1])
    written = None
    if better or force:
        router = tune_router(labels, current, l2=l2, seed=seed)
        router.meta.update({"labels_until": found["newest"], "label_signals": found["counts"],
                            "source": found["where"]})
        router.save(out)
        written = str(out)
    if as_json:
        typer.echo(json.dumps({"labels": labels.n, "signals": found["counts"], "skipped": found["skipped"],
                               "held_back": len(back), "comparison": rows, "judged_by": judged_by,
                               "written": written,
                               "current": found["current_name"]}, indent=1))
        return
    from rich.table import Table

    console = _console()
    console.print(escape(f"{found['where']}: {found['summary']}"))
    t = Table(title=escape(f"On {len(back)} held-back requests (never trained on): current router "
                           f"({found['current_name']}) beside the new one"), title_justify="left")
    for col in ("router", "log-loss", "Brier", "cost vs always-top at 95%", "labelled cells", "complete rows"):
        t.add_column(col, justify="right" if col != "router" else "left")
    for r in rows:
        t.add_row(r["router"], f"{r['log_loss']:.4f}", f"{r['brier']:.4f}", _pct(r["cost_relative_at_95"]),
                  str(r["cells"]), str(r["complete_rows"]))
    console.print(t)
    if written:
        note = "" if better else f" (--force: it did worse than the current router on held-back {judged_by})"
        console.print(escape(f"wrote {out}: fine-tuned on all {labels.n} labels{note}; use it with [router] "
                             f"model_path = \"{out}\" (or `tierwise calibrate --from-ledger`)"))
    else:
        console.print(escape(f"not written: the new router does worse than the current one on held-back "
                             f"{judged_by} (--force writes it anyway)"))


def _not_worse(current: dict[str, Any], new: dict[str, Any]) -> tuple[bool, str]:
    """(new is not worse, by what): the cost at 95% of top quality when both have one (enough held-back rows
    with every tier judged), which is what routing is for and what tune_router chose by; else log-loss."""
    a, b = current["cost_relative_at_95"], new["cost_relative_at_95"]
    if a is not None and b is not None:
        return b <= a + 1e-9, "cost at 95% of top quality"
    if a is not None or b is not None:  # one never reaches 95% on these rows: the one that does is better
        return b is not None, "cost at 95% of top quality"
    return new["log_loss"] <= current["log_loss"] + 1e-9, "log-loss"


@router_app.command("eval")
@_guard
def eval_command(
    router: Annotated[Path, typer.Option("--router", help="Router file from `tierwise router train`.")],
    outcomes: OutcomesOpt,
    top: TopOpt = None,
    prices: PricesOpt = None,
    ladder: LadderOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Score the router on an outcome table next to random, prompt-length and oracle routing."""
    from .compare import evaluate
    from .learned import load_router

    learned = load_router(router)
    table = _load(outcomes, top, prices, ladder)
    _notes(table)
    report = evaluate(table, learned)
    if as_json:
        typer.echo(json.dumps({"reference": report["reference"], "routers": report["routers"]}, indent=1))
        return
    unit = "dollars" if table.cost_unit == "usd" else "top-model calls"
    console = _console()
    console.print(_reference_table(report["reference"]))
    console.print(_metrics_table(report["routers"], unit))


@router_app.command("convert-routellm")
@_guard
def convert_command(
    src: Annotated[
        Path, typer.Argument(help="The RouteLLM data folder (routellm_gpt4_mixtral or its parent).")
    ],
    benchmark: Annotated[str, typer.Option(help="mmlu, gsm8k or mt_bench.")],
    out: Annotated[Path, typer.Option("--out", help="Outcome table to write (.csv, .jsonl or .parquet).")],
) -> None:
    """Convert RouteLLM's GPT-4 vs Mixtral outcomes into an outcome table (decontaminated, with est. cost)."""
    from tierwise.outputs import check_output

    from .convert import convert_routellm
    from .formats import FORMATS

    check_output(out, option="--out", suffixes=tuple(FORMATS), make_parents=True)
    if src.exists() and out.resolve().is_relative_to(src.resolve()):
        raise OutcomeError(out, "is inside the RouteLLM data folder it is converted from; write it elsewhere")

    summary = convert_routellm(src, benchmark, out)
    typer.echo(f"wrote {summary['rows']} rows ({summary['prompts']} prompts) to {summary['out']}")


@_guard
def calibrate_command(
    ctx: typer.Context,
    outcomes: OutcomesOrLedgerOpt = None,
    from_ledger: FromLedgerOpt = False,
    since: SinceOpt = "30d",
    ledger: LedgerOpt = None,
    evals: EvalsOpt = None,
    registry: RegistryOpt = None,
    target: Annotated[float, typer.Option(help="Quality to keep, as a fraction of the top model's.")] = 0.95,
    router: Annotated[
        Path | None,
        typer.Option("--router", help="Calibrate this router (default: train one, cross-fitted)."),
    ] = None,
    write: Annotated[
        Path, typer.Option("--write", help="TOML override file to merge the settings into.")
    ] = Path("tierwise.toml"),
    router_out: Annotated[
        Path | None,
        typer.Option(
            "--router-out",
            help="Where to save a trained router (default: router.json next to the TOML file).",
        ),
    ] = None,
    top: TopOpt = None,
    prices: PricesOpt = None,
    ladder: LadderOpt = None,
    folds: Annotated[int, typer.Option(help="Cross-fitting folds when training here.")] = 5,
    strategy: Annotated[str, typer.Option(help="The [router] strategy to write: learned (no triage call) or hybrid "
                                          "(LLM triage only in the calibrated uncertain band).")] = "learned",
    as_json: JsonOpt = False,
) -> None:
    """Choose the router threshold (and draft-score/confidence thresholds when the table has draft scores)
    that meet the quality target at the least cost; write them where the graph reads them. With --from-ledger,
    the router is fine-tuned on your traffic's labels and the threshold is chosen on its shadow pairs."""
    from tierwise.inputs import check_number
    from tierwise.outputs import check_output, write_atomic

    from .calibration import calibrate, read_settings_file, settings_text
    from .learned import load_router

    if (outcomes is None) == (not from_ledger):
        raise OutcomeError("calibrate", "give either --outcomes FILE or --from-ledger")
    if from_ledger and router is not None:
        raise OutcomeError("calibrate", "--router calibrates a given router on --outcomes; --from-ledger trains one")
    # Every output checked, and the TOML read, before anything is trained or written: nothing half-done.
    inputs = [outcomes, prices, router, *(evals or [])]
    check_output(write, option="--write", inputs=inputs, suffixes=(".toml",), make_parents=True)
    read_settings_file(write)
    if router is None:
        check_output(router_out or write.parent / "router.json", option="--router-out", inputs=[*inputs, write],
                     suffixes=ROUTER_SUFFIXES, make_parents=True)
    check_number(target, "--target", low=0.0, high=1.5)
    if strategy not in ("learned", "hybrid"):
        raise OutcomeError("--strategy", f"must be learned or hybrid, not {strategy!r}")
    if from_ledger:
        from .adapt import cross_fit_complete, tune_router

        found = ledger_source(ctx)(since=since, ledger=ledger, evals=evals or [], registry=registry)
        labels, current = found["labels"], found["current"]
        console_note = f"{found['where']}: {found['summary']}"
        table, pred, kappa = cross_fit_complete(labels, current, folds=min(folds, 3))
        trained = tune_router(labels, current)
        trained.meta.update({"labels_until": found["newest"], "label_signals": found["counts"],
                             "source": found["where"]})
        result, trained = calibrate(table, trained, target=target, predictions=(pred, kappa))
        learned = None
    else:
        assert outcomes is not None
        console_note = None
        learned = load_router(router) if router is not None else None
        table = _load(outcomes, top, prices, ladder)
        _notes(table)
        result, trained = calibrate(table, learned, target=target, folds=folds)
    model_path = router if router is not None else router_out or write.parent / "router.json"
    text = settings_text(write, result, model_path, strategy)  # the TOML once more: it may have changed meanwhile
    if learned is None:
        trained.save(model_path)
    write_atomic(write, text, option="--write")
    if as_json:
        out = result.as_dict() | {
            "written": str(write),
            "model_path": str(model_path),
            "curve": _curve_points(result.curve, table),
        }
        if from_ledger:
            out["signals"] = found["counts"]
        typer.echo(json.dumps(out, indent=1))
        return
    if console_note:
        _console().print(escape(console_note))
    _print_calibration(result, table, write, model_path)


def _curve_points(curve, table, k: int = 12) -> list[dict[str, Any]]:
    """A readable subset of the curve: ~k points evenly spaced in cost, plus the ends."""
    import numpy as np

    rows = curve.as_rows()
    if len(rows) <= k:
        picked = rows
    else:
        targets = np.linspace(curve.cost.min(), curve.cost.max(), k)
        idx = sorted({int(np.argmin(np.abs(curve.cost - c))) for c in targets})
        picked = [rows[i] for i in idx]
    top_q, top_c = float(table.model_quality()[-1]), float(table.model_cost()[-1])
    for r in picked:
        r["quality_relative"] = r["quality"] / top_q if top_q else None
        r["cost_relative"] = r["cost"] / top_c if top_c else None
    return picked


def _print_calibration(result, table, write: Path, model_path) -> None:
    from rich.table import Table

    console = _console()
    t = Table(
        title=escape(f"Quality vs cost on {table.source} ({'cross-fitted' if result.cross_fitted else 'as given'})")
    )
    for col in ("threshold", "quality", "% of top quality", "top share", "cost vs always-top"):
        t.add_column(col, justify="right")
    for r in _curve_points(result.curve, table):
        t.add_row(
            _num(r["threshold"], 4),
            f"{r['quality']:.4f}",
            _pct(r["quality_relative"]),
            _pct(r["top_share"]),
            _pct(r["cost_relative"]),
        )
    console.print(t)
    verdict = "meets" if result.met else "CANNOT reach"
    extra = ""
    if result.draft_score is not None:
        extra = f", draft_score {result.draft_score}"
        if result.confidence is not None:
            extra += f", confidence {result.confidence:g}"
    if result.hybrid_margin is not None:
        extra += f", hybrid_margin {result.hybrid_margin:g} (LLM triage below it, with strategy hybrid)"
    console.print(escape(
        f"target {result.target:.0%} of {table.top} quality: threshold {result.threshold:.4f}{extra} "
        f"{verdict} it "
        f"with quality {result.quality:.4f} ({result.quality / result.top_quality:.1%} of top), "
        f"cost {result.cost_relative:.1%} of always-top → expected saving {result.saving:.1%}"
    ))
    console.print(
        escape(f"wrote [router] (and [thresholds] if drafts were scored) to {write}; router: {model_path}")
    )
