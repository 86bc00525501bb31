"""The `tierwise` command. User mistakes print one clear line and exit 2; they never show a traceback."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any, cast

import typer

from tierwise.batch.cli import batch_command
from tierwise.console import fail, setup_output
from tierwise.errors import TierwiseError
from tierwise.evals.cli import eval_command, suggest_command
from tierwise.reports.cli import report_command
from tierwise.routing.cli import calibrate_command, router_app


class _Commands(typer.core.TyperGroup):
    """The one place the CLI turns a user's mistake into `error: ...`, exit 2 (every sub-command runs inside
    this invoke): a TierwiseError (an InputFileError from the strict parsing layer, a locked output, a bad
    setting) never shows a traceback, whichever command or helper raised it."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TierwiseError as exc:
            from tierwise.errors import ModelCallError

            raise fail(str(exc), code=1 if isinstance(exc, ModelCallError) else 2) from None


app = typer.Typer(
    cls=_Commands,
    name="tierwise",
    help="Route each stage of a Gemini pipeline to the tier it deserves, and price every call.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

BackendOpt = Annotated[
    str, typer.Option(help="auto | gemini | vertex | local | scripted. auto: Gemini if GOOGLE_API_KEY/GEMINI_API_KEY "
                      "is set; with no key, `run` answers from the local model if tierwise[local] is installed "
                      "(and says so), other commands stop. local / scripted: tierwise's emulator with a small "
                      "local model / canned demo answers, recorded apart from real spend. vertex: "
                      "GOOGLE_CLOUD_PROJECT/GOOGLE_CLOUD_LOCATION with Application Default Credentials, or an "
                      "express-mode key.")
]
RegistryOpt = Annotated[str | None, typer.Option("--registry", help="A registry TOML merged over the packaged one.")]


@app.callback()
def _wire(ctx: typer.Context) -> None:
    """Hand lower layers what they may not import: `router train --from-ledger` reads the ledger through this."""
    from tierwise.evals.learn import ledger_labels_for

    ctx.obj = {"ledger_labels": ledger_labels_for}


@app.command()
def run(
    text: Annotated[str, typer.Argument(help="The request. '-' reads it from standard input.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    backend: BackendOpt = "auto",
    registry: RegistryOpt = None,
    base_url: Annotated[str | None, typer.Option(help="A Gemini-compatible endpoint, e.g. a running "
                                                  "`tierwise emulator`.")] = None,
    task_type: Annotated[str | None, typer.Option(help="A label for reports, e.g. support-ticket.")] = None,
    draft_threshold: Annotated[int | None, typer.Option(min=1, max=10, help="Judge score a draft needs.")] = None,
    confidence_threshold: Annotated[float | None, typer.Option(min=0.0, max=1.0, help="Self-confidence below "
                                                               "which a moderate draft escalates.")] = None,
    graph: Annotated[str, typer.Option("--graph", help="main (triage-routed Q&A) | content | research | "
                                       "agentic.")] = "main",
    corpus: Annotated[str | None, typer.Option(help="research/agentic: a folder of .md/.txt files to search "
                                               "(default: the sample corpus in the package).")] = None,
    label: Annotated[list[str] | None, typer.Option("--label", help="Who the request is for, NAME=VALUE (repeat "
                                                    "it): e.g. --label user=alice; per-tenant budgets and "
                                                    "`report --by label:user` use it.")] = None,
) -> None:
    """Run a graph on one request: answer, route, and a priced table of every model call."""
    setup_output()
    from tierwise.calls import ModelCallError
    from tierwise.context import Backend, Context
    from tierwise.runtime import command_runtime

    try:
        if text == "-":
            text = read_stdin()
        from tierwise.calls.messages import check_request

        payload: dict[str, Any] = {"input": text}
        if task_type:
            payload["task_type"] = task_type
        if label:
            payload["labels"] = parse_labels(label)
        check_request(payload)  # a bad request is refused before anything is chosen or started
        rt, chosen = command_runtime(backend, base_url, offline_local=True)
    except TierwiseError as exc:
        raise fail(str(exc)) from None
    with rt:
        try:
            if chosen != backend:
                typer.echo("no API key: answering from the local model (SmolLM2-135M in tierwise's emulator), not "
                           "Gemini; set GOOGLE_API_KEY for Gemini. Its calls go to the stand-in ledger.", err=True)
            context = Context(
                backend=cast(Backend, chosen), registry_path=registry, base_url=base_url,  # Context checks the name
                draft_score_threshold=draft_threshold, confidence_threshold=confidence_threshold,
            )
            from tierwise.ledger.url import check_ledger

            check_ledger(rt.ledgers, rt.registry_for(context), stand_in=chosen in ("local", "scripted")
                         and not base_url)
            from tierwise.graph.catalog import build_named

            result = build_named(graph, corpus=corpus, runtime=rt).invoke(payload, context=context)
        except ModelCallError as exc:
            raise fail(str(exc), code=1) from None
        except TierwiseError as exc:
            raise fail(str(exc)) from None
    from tierwise.display import render_result, result_json

    if as_json:
        typer.echo(json.dumps({**result_json(result), "backend": chosen}, indent=2, ensure_ascii=False))
    else:
        render_result(result)
    if result.get("failure"):
        raise typer.Exit(1)  # a typed failure: reported above, with every attempt priced


def parse_labels(pairs: list[str]) -> dict[str, str]:
    """--label NAME=VALUE options → the request's labels (checked as the graph checks them)."""
    from tierwise.inputs import check_request_labels

    labels: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise TierwiseError(f"--label {pair!r}: write NAME=VALUE, e.g. --label user=alice")
        if name in labels:
            raise TierwiseError(f"--label {name} is given twice")
        labels[name] = value
    return check_request_labels(labels, "--label")


def read_stdin() -> str:
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TierwiseError(f"standard input is not UTF-8 text (byte {exc.start}): send text, not binary data") \
            from None


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port; 0 picks a free one.")] = 8765,
    backend: Annotated[str, typer.Option(help="local (a real small model) | scripted (rules from --script, "
                                         "or the demo script).")] = "scripted",
    script: Annotated[str | None, typer.Option(help="Rules file (TOML or JSON) for the scripted backend.")] = None,
    faults: Annotated[str | None, typer.Option(help="Inject failures: a TOML/JSON file, or e.g. "
                                               "'rate_limit:0.2:retry_after=1,unavailable:0.1,seed=7'.")] = None,
    lenient: Annotated[bool, typer.Option("--lenient", help="Accept what Gemini refuses (unknown models and "
                                          "fields, settings a model does not take): for odd clients.")] = False,
    record: Annotated[str | None, typer.Option(help="Proxy every call to --upstream and store each exchange in "
                                               "this directory (API keys are never stored).")] = None,
    replay: Annotated[str | None, typer.Option(help="Answer only from exchanges recorded in this directory.")] = None,
    upstream: Annotated[str | None, typer.Option(help="Gemini-compatible endpoint to record from, e.g. "
                                                 "https://generativelanguage.googleapis.com (the key comes from "
                                                 "GOOGLE_API_KEY/GEMINI_API_KEY, else the client's).")] = None,
    on_miss: Annotated[str, typer.Option(help="With --replay: error (a 404 naming the request) | upstream "
                                         "(forward and record the miss).")] = "error",
    invalid_key: Annotated[list[str] | None, typer.Option(help="An API key to refuse with API_KEY_INVALID "
                                                          "(repeatable).")] = None,
    latency: Annotated[bool, typer.Option("--latency", help="Answer as slowly as each model does: time to first "
                                          "token + output tokens/s (published figures, emulator/latency.toml).")]
    = False,
    latency_scale: Annotated[float, typer.Option(min=0.001, help="Multiply every --latency wait by this (0.1: ten "
                                                 "times faster than real).")] = 1.0,
    batch_seconds: Annotated[float, typer.Option(min=0.0, help="How long a Batch API job takes (half pending, half "
                                                 "running) before it answers.")] = 0.0,
) -> None:
    """Serve the Gemini API emulator for your own tests: point a client's base_url at it."""
    setup_output()
    from tierwise.emulator import ScriptedBackend, parse_faults, serve
    from tierwise.emulator.launch import make_backend

    try:
        injected = parse_faults(faults) if faults is not None else None
        chosen = None
        if script is not None:
            if backend != "scripted":
                raise TierwiseError("--script goes with --backend scripted")
            chosen = ScriptedBackend.from_file(script)
        elif record is None and replay is None:
            chosen = make_backend(backend)
        from tierwise.emulator.batches import BatchSettings

        options: dict[str, Any] = dict(faults=injected, strict=not lenient, invalid_keys=invalid_key or (),
                                       record=record, replay=replay, upstream=upstream, on_miss=on_miss,
                                       batch=BatchSettings(pending_s=batch_seconds / 2, running_s=batch_seconds / 2))
        if record is not None or replay is not None:
            from tierwise.emulator import Emulator

            Emulator(chosen, **options)  # checks the options before the port is taken
    except (TierwiseError, ValueError) as exc:
        raise fail(str(exc)) from None
    mode = f"recording {upstream} into {record}" if record else f"replaying {replay}" if replay else backend

    def ready(base_url: str) -> None:
        strictness = "lenient" if lenient else "strict"
        typer.echo(f"Gemini API emulator ({mode}, {strictness}) on {base_url} — Ctrl-C stops it", err=True)
        if injected:
            typer.echo(f"injecting faults: {injected}", err=True)

    try:
        from tierwise.emulator.latency import LatencyModel

        serve(host, port, chosen, on_ready=ready, latency=LatencyModel.published(latency_scale) if latency else None,
              **options)
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except (TierwiseError, ValueError) as exc:
        raise fail(str(exc)) from None


@app.command()
def tiers(
    registry: RegistryOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the merged registry as JSON.")] = False,
    check: Annotated[bool, typer.Option("--check", help="List price overrides that disagree with genai-prices; "
                                        "exit 1 when any does.")] = False,
) -> None:
    """Show the registry in force: tiers, the model catalogue, prices and their sources, stage settings."""
    setup_output()
    from tierwise.tiers import build_registry

    try:
        reg = build_registry(registry)
    except TierwiseError as exc:
        raise fail(str(exc)) from None
    if check:
        from tierwise.tiers.price_check import check_overrides

        checks = check_overrides(reg.data)
        for found in checks:
            typer.echo(found.describe())
        disagreeing = sum(found.disagrees for found in checks)
        typer.echo(f"{len(checks)} price override(s), {disagreeing} disagreeing with genai-prices")
        raise typer.Exit(1 if disagreeing else 0)
    if as_json:
        typer.echo(reg.data.model_dump_json(indent=2))
        return
    from tierwise.display import render_registry

    render_registry(reg)


app.command("report")(report_command)
app.command("batch")(batch_command)
app.command("calibrate")(calibrate_command)
app.command("eval")(eval_command)
app.command("suggest")(suggest_command)
app.add_typer(router_app, name="router", help="Train and evaluate the learned pre-router on an outcome table.")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
