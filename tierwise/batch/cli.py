"""`tierwise batch INPUT.jsonl --out OUT.jsonl`. Exit codes: 0 all ok, 1 some items failed or a hard spend cap
stopped the batch, 2 a mistake in the input or options (nothing run), 130 interrupted (resume with --resume)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from tierwise.errors import TierwiseError

if TYPE_CHECKING:  # only annotations: the command imports its modules when it runs
    from .runner import BatchSummary


def batch_command(
    input_path: Annotated[Path, typer.Argument(metavar="INPUT.jsonl", help="One JSON object per line: "
                                               '{"id"?, "input", "task_type"?, "request_id"?, "metadata"?}.')],
    out: Annotated[Path, typer.Option("--out", "-o", help="Results, one JSON line per item (also the resume "
                                      "record).")],
    concurrency: Annotated[int, typer.Option("--concurrency", "-j", min=1, max=1024,
                                             help="Requests in flight at once.")] = 16,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted batch: items already in --out "
                                         "are skipped.")] = False,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Start over, discarding what --out holds.")] = False,
    retry_failed: Annotated[bool, typer.Option("--retry-failed", help="With --resume: run the items that failed "
                                               "again (their good stages come from the stage cache).")] = False,
    group: Annotated[bool, typer.Option(help="Send requests that share a prompt prefix together (Gemini's "
                                        "implicit cache bills repeated prefixes less).")] = True,
    cache: Annotated[bool, typer.Option(help="Keep good stage outputs in OUT.cache.db so a re-run item does not "
                                        "call (or pay for) them again.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress line.")] = False,
    backend: Annotated[str, typer.Option(help="auto | gemini | vertex | local | scripted (as for `tierwise run`)."
                                         )] = "auto",
    registry: Annotated[str | None, typer.Option("--registry", help="A registry TOML merged over the packaged "
                                                 "one.")] = None,
    base_url: Annotated[str | None, typer.Option(help="A Gemini-compatible endpoint, e.g. a running "
                                                 "`tierwise emulator`.")] = None,
    api: Annotated[str, typer.Option("--api", help="standard: each stage call is a live request. batch: stage calls "
                                     "are collected per model into Gemini Batch API jobs at half price (answers "
                                     "within 24 h; -j does not apply).")] = "standard",
) -> None:
    """Run every request of a JSONL file through the graph: progress, a line per item, resumable."""
    from tierwise.console import fail, setup_output
    from tierwise.context import Backend, Context
    from tierwise.ledger.url import check_ledger
    from tierwise.runtime import command_runtime

    from .runner import BatchSummary, run_batch

    setup_output()
    if retry_failed and not resume:
        raise fail("--retry-failed goes with --resume")
    if resume and overwrite:
        raise fail("--resume and --overwrite contradict each other: choose one")
    if api not in ("standard", "batch"):
        raise fail(f"--api must be standard or batch, got {api!r}")
    summary = BatchSummary()
    try:
        rt, _ = command_runtime(backend, base_url)
    except TierwiseError as exc:
        raise fail(str(exc)) from None
    try:
        context = Context(backend=cast(Backend, backend), registry_path=registry, base_url=base_url)  # checked there
        check_ledger(rt.ledgers, rt.registry_for(context), stand_in=backend in ("local", "scripted") and not base_url)
        run_batch(input_path, out, summary=summary, context=context, concurrency=concurrency, resume=resume,
                  overwrite=overwrite, retry_failed=retry_failed, group=group, cache=cache, quiet=quiet, runtime=rt,
                  api=api)
    except KeyboardInterrupt:
        done = summary.skipped + summary.ok + summary.failed
        typer.echo(f"interrupted: {done} of {summary.total} items are in {out}; run the same command with "
                   "--resume to finish (items that were in flight run again)", err=True)
        if summary.jobs is not None and summary.jobs.submitted + summary.jobs.reattached:
            typer.echo(f"the Batch API jobs already submitted keep running ({summary.jobs.describe()}); --resume "
                       f"re-attaches to them (listed in {summary.jobs_journal}) and pays for none twice", err=True)
        raise typer.Exit(130) from None
    except TierwiseError as exc:
        raise fail(str(exc)) from None
    finally:
        rt.close()
    _report(summary)
    if summary.failed or summary.stopped:
        raise typer.Exit(1)


def _report(summary: BatchSummary) -> None:
    parts = [f"{summary.ok} ok", f"{summary.failed} failed"]
    if summary.skipped:
        parts.append(f"{summary.skipped} already done")
    if summary.remaining:
        parts.append(f"{summary.remaining} not run")
    typer.echo(f"batch: {', '.join(parts)} of {summary.total}; ${summary.cost_usd:.6f} this run in "
               f"{summary.seconds:.1f} s; results in {summary.out}"
               + (f" and {summary.saved_to}" if summary.saved_to else ""), err=True)
    if summary.jobs is not None:
        jobs = summary.jobs
        typer.echo(f"Batch API: {jobs.submitted} job(s) created ({jobs.requests} requests, at batch prices)"
                   + (f", {jobs.reattached} re-attached from the earlier run" if jobs.reattached else "")
                   + f"; {jobs.describe()}", err=True)
    for line in summary.failures:
        typer.echo(f"  failed: {line}", err=True)
    if summary.saved_to is not None:
        typer.echo(f"stopped: {summary.stopped}\n{len(summary.unwritten)} finished items (their calls are paid) "
                   f"were saved to {summary.saved_to}; once there is room, append them to {summary.out} "
                   f"(cat {summary.saved_to} >> {summary.out}) and rerun the same command with --resume", err=True)
    elif summary.stopped:
        typer.echo(f"stopped: {summary.stopped}\nraise the cap or wait, then rerun with --resume --retry-failed",
                   err=True)
    elif summary.failed:
        typer.echo("rerun with --resume --retry-failed to try the failed items again", err=True)
