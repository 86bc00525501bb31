"""Run a JSONL file of requests through the graph: bounded concurrency, one result line per item, resumable.

What "exactly once" means here: an item is done when its line is in the output (see `journal`). A resume
never runs a done item and never writes a second line for it. An item whose graph run was in flight when the
process died — including one that had finished but whose line was not written yet — has no line, so it runs
again; the stages it had already got good answers for come from the stage cache (see `cache`), so those
model calls are neither made nor billed twice.

A failed item (a stage failed on every model it may use, a bad request, an unexpected error) gets a line with
`"status": "failed"` and the batch goes on; `--resume --retry-failed` runs those again. A hard spend cap stops
the batch instead: every further item would fail the same way, so they are left to a later resume.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tierwise.calls.runtime import CallRuntime, current_runtime
from tierwise.context import Context, coerce_context
from tierwise.errors import BackendUnavailableError, InvalidInputError, RegistryError, TierwiseError
from tierwise.graph.bind import bind_runtime
from tierwise.inputs import check_concurrency, check_path, named_arguments
from tierwise.locks import exclusive
from tierwise.outputs import check_output, save_with_fallback

from .cache import StageCache, stage_cache_policy
from .grouping import by_shared_prefix
from .identity import claim_output
from .items import BatchInputError, Item, read_items
from .journal import BatchOutputError, Journal, result_line
from .progress import BatchProgress

DEFAULT_CONCURRENCY = 16
FATAL = (RegistryError, BackendUnavailableError)  # every item would fail alike: stop, don't record thousands


@dataclass
class BatchSummary:
    total: int = 0
    skipped: int = 0  # done in an earlier run (resume)
    ok: int = 0
    failed: int = 0
    cost_usd: float = 0.0  # calls made by this run (stages served from the stage cache were paid before)
    seconds: float = 0.0
    stopped: str | None = None  # why the batch stopped before the end (hard spend cap), if it did
    out: Path | None = None
    cache: Path | None = None
    failures: list[str] = field(default_factory=list)  # the first few, for the summary
    api: str = "standard"  # "batch": stage calls went through Gemini Batch API jobs (jobs.py)
    jobs: Any = None  # --api batch: the JobCounts (jobs created, re-attached, requests, states)
    jobs_journal: Path | None = None
    unwritten: list[dict[str, Any]] = field(default_factory=list)  # finished (and paid) but not in `out`: disk full
    saved_to: Path | None = None  # where the unwritten lines were saved instead

    @property
    def remaining(self) -> int:
        return self.total - self.skipped - self.ok - self.failed


def cache_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".cache.db")


def jobs_path(out: str | Path) -> Path:
    """--api batch: the Batch API jobs of this output (their names and request keys), for --resume."""
    out = Path(out)
    return out.with_name(out.name + ".jobs.jsonl")


APIS = ("standard", "batch")


@named_arguments
def run_batch(input_path: str | Path, out: str | Path, *, summary: BatchSummary | None = None,
              **options: Any) -> BatchSummary:
    """Sync entry point; see `arun_batch`. Pass `summary` to read the counts after a Ctrl-C."""
    summary = summary if summary is not None else BatchSummary()
    asyncio.run(arun_batch(input_path, out, summary=summary, **options))
    return summary


@named_arguments
async def arun_batch(
    input_path: str | Path,
    out: str | Path,
    *,
    context: Context | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    resume: bool = False,
    overwrite: bool = False,
    retry_failed: bool = False,
    group: bool = True,
    cache: bool = True,
    quiet: bool = False,
    graph_factory: Callable[..., Any] | None = None,
    summary: BatchSummary | None = None,
    api: str = "standard",
    batch_window_s: float = 2.0,
    batch_poll_s: tuple[float, float] = (1.0, 30.0),
    runtime: CallRuntime | None = None,
) -> BatchSummary:
    """Run every item of `input_path` not yet in `out`; returns the counts (also kept in `summary`).

    `api="batch"`: every stage call goes through Gemini Batch API jobs at batch prices (jobs.py); all items run
    at once (`concurrency` does not apply: they wait on jobs, not on connections). `batch_window_s`: while some
    items are still busy, a model's queued requests go out once none has come for it this long; `batch_poll_s`:
    the first and the longest wait between polls of a job.
    `runtime`: the tierwise.Runtime the graph runs on (default: `tierwise.default_runtime()`)."""
    if runtime is None:
        from tierwise.runtime import default_runtime

        runtime = default_runtime()
    runtime = current_runtime(runtime)  # checks what was passed
    concurrency = check_concurrency(concurrency)
    if api not in APIS:
        raise InvalidInputError(f"api must be one of {', '.join(APIS)}, got {api!r}")
    input_path, out = check_path(input_path, "input_path"), check_path(out, "out")
    context = coerce_context(context)
    summary = summary if summary is not None else BatchSummary()
    out = check_output(out, option="--out", inputs=[input_path, context.registry_path], make_parents=True)
    items = read_items(input_path)  # every bad line named before any call
    out.parent.mkdir(parents=True, exist_ok=True)
    # One writer per output: the lock covers the output, its sidecar, its stage cache and its Batch API jobs
    # journal, from the claim to the cache's removal; a second run (or a --resume while this one goes) is
    # refused at once, naming this pid.
    with exclusive(out, what=f"--out {out}"):
        return await _locked_batch(input_path, out, items, context=context, concurrency=concurrency,
                                   resume=resume, overwrite=overwrite, retry_failed=retry_failed, group=group,
                                   cache=cache, quiet=quiet, graph_factory=graph_factory, summary=summary,
                                   runtime=runtime, api=api, batch_window_s=batch_window_s,
                                   batch_poll_s=batch_poll_s)


async def _locked_batch(input_path: str | Path, out: Path, items: list[Item], *, context: Context,
                        concurrency: int, resume: bool, overwrite: bool, retry_failed: bool, group: bool,
                        cache: bool, quiet: bool, graph_factory: Callable[..., Any] | None,
                        summary: BatchSummary, runtime: CallRuntime, api: str, batch_window_s: float,
                        batch_poll_s: tuple[float, float]) -> BatchSummary:
    claim_output(out, input_path, items, resume=resume, overwrite=overwrite)  # before the journal is touched
    collector = _collector(api, context, runtime, out, batch_window_s, batch_poll_s)  # Vertex: refused, before all
    journal = Journal(out)
    stages_db = cache_path(out)
    if overwrite and not resume:
        stages_db.unlink(missing_ok=True)
    done = journal.open(resume=resume, overwrite=overwrite, retry_failed=retry_failed)
    stage_cache = None
    try:
        _check_same_input(done, items, out, input_path)
        todo = [item for item in items if item.id not in done]
        if group:
            todo = by_shared_prefix(todo)
        summary.total, summary.skipped, summary.out = len(items), len(items) - len(todo), Path(out)
        if cache:
            stage_cache = StageCache(stages_db)
            summary.cache = stages_db
        graph = bind_runtime(_graph(graph_factory, context, stage_cache, runtime), runtime)
        batch_id = hashlib.sha256(str(Path(out).resolve()).encode()).hexdigest()[:10]
        earlier = list(done.values())
        with BatchProgress(len(items), done=len(earlier), failed=sum(e.get("status") != "ok" for e in earlier),
                           cost_usd=sum(e.get("total_cost_usd") or 0.0 for e in earlier), quiet=quiet,
                           jobs=collector.counts.describe if collector else None) as progress:
            started = time.monotonic()
            try:
                if collector is None:
                    await _run(graph, todo, context, concurrency, batch_id, journal, progress, summary)
                else:
                    await _run_on_jobs(collector, progress, summary, resume,
                                       lambda: _run(graph, todo, context, max(len(todo), 1), batch_id, journal,
                                                    progress, summary, collector))
            finally:
                summary.seconds = time.monotonic() - started
    finally:
        try:
            journal.close()
        finally:
            if stage_cache is not None:
                stage_cache.close()
            if summary.unwritten:
                summary.saved_to = _save_unwritten(Path(out), summary.unwritten)
    if stage_cache is not None and summary.failed == 0 and summary.remaining == 0:
        stages_db.unlink(missing_ok=True)  # everything is in the output: nothing left to retry from
        for suffix in ("-wal", "-shm"):
            stages_db.with_name(stages_db.name + suffix).unlink(missing_ok=True)
        summary.cache = None
    return summary


def _collector(api: str, context: Context, runtime: CallRuntime, out: Path, window_s: float,
               poll_s: tuple[float, float]) -> Any:
    """--api batch: the Batch API collector for this output (Vertex refused here, before anything is touched)."""
    if api != "batch":
        return None
    from .jobs import BatchJobs

    endpoint = runtime.endpoint_for(context, runtime.registry_for(context))
    return BatchJobs(endpoint, jobs_path(out), window_s=window_s, poll_s=poll_s)


async def _run_on_jobs(collector: Any, progress: BatchProgress, summary: BatchSummary, resume: bool,
                       run: Callable[[], Any]) -> None:
    """Run the items with every stage call collected into Batch API jobs (calls/deferred.py, jobs.py)."""
    from tierwise.calls.deferred import deferring

    summary.api, summary.jobs, summary.jobs_journal = "batch", collector.counts, collector.journal.path
    collector.on_change = progress.jobs_changed
    await collector.start(resume=resume)  # a resume re-attaches to the jobs an earlier run created
    try:
        with deferring(collector):
            await run()
    finally:
        await collector.close()  # submitted jobs keep running at Google: --resume re-attaches to them


async def _run(graph: Any, todo: list[Item], context: Context, concurrency: int, batch_id: str, journal: Journal,
               progress: BatchProgress, summary: BatchSummary, collector: Any = None) -> None:
    queue = deque(todo)
    since = datetime.now(UTC)
    if collector is not None:
        collector.active = len(todo)  # every item is in flight from the start: a job goes when all wait on one

    async def worker() -> None:
        while queue and summary.stopped is None:
            item = queue.popleft()
            try:
                entry = await run_item(graph, item, context, f"{batch_id}-{item.id}")
            finally:
                if collector is not None:
                    collector.item_finished()
            try:
                journal.append(entry)
            except BatchOutputError as exc:  # no more items start; the paid ones are saved elsewhere at the end
                summary.unwritten.append(entry)
                summary.stopped = str(exc)
            failed = entry["status"] != "ok"
            summary.ok += not failed
            summary.failed += failed
            cost = fresh_cost(entry, since)
            summary.cost_usd += cost
            if failed and len(summary.failures) < 5:
                error = entry["error"]
                summary.failures.append(f"{item.id} (line {item.line}): {error['kind']}: {error['message']}")
            if failed and entry["error"]["kind"] == "budget":
                summary.stopped = entry["error"]["message"]
            progress.advance(failed=failed, cost_usd=cost)
        while collector is not None and queue:  # stopped: the items left will not run (nor wait on a job)
            queue.popleft()
            collector.item_finished()

    await asyncio.gather(*(worker() for _ in range(min(concurrency, len(todo)))))


async def run_item(graph: Any, item: Item, context: Context, request_id: str) -> dict[str, Any]:
    """One item's output line (its `request_id` finds its calls in the ledger). Failures become lines too, except
    those that would fail every item."""
    from tierwise.display import result_json

    payload = item.payload(request_id)
    head: dict[str, Any] = {"id": item.id, "line": item.line, "request_id": payload["request_id"]}
    if item.metadata:
        head["metadata"] = item.metadata
    try:
        result = await graph.ainvoke(payload, context=context)
    except FATAL:
        raise
    except InvalidInputError as exc:
        return head | {"status": "failed", "error": {"kind": "invalid_input", "stage": None, "message": str(exc)}}
    except TierwiseError as exc:
        return head | {"status": "failed", "error": {"kind": type(exc).__name__, "stage": None, "message": str(exc)}}
    except Exception as exc:  # noqa: BLE001 - one item's surprise must not end the batch; its line says what
        message = f"{type(exc).__name__}: {exc}".splitlines()[0][:500]
        return head | {"status": "failed", "error": {"kind": "error", "stage": None, "message": message}}
    body = result_json(result)
    failure = result.get("failure")
    if failure:
        error = {"kind": failure.get("kind"), "stage": failure.get("stage"), "message": failure.get("message")}
        return head | {"status": "failed", "error": error} | body
    return head | {"status": "ok", "error": None} | body


def _save_unwritten(out: Path, entries: list[dict[str, Any]]) -> Path:
    """Items that finished (their calls are paid) but whose lines `out` could not take: to a file beside it, else in
    the current, home or temp folder. OutputPathError only when no place takes them."""
    def write(path: Path) -> None:
        path.write_text("".join(result_line(e) for e in entries), encoding="utf-8")

    where, _ = save_with_fallback(out.with_name(out.stem + ".unwritten.jsonl"), write,
                                  what=f"{len(entries)} finished items")
    return where


def fresh_cost(entry: dict[str, Any], since: datetime) -> float:
    """The cost of the item's calls made since `since`: a stage served from the cache carries its first call's
    record (and start time), already paid for."""
    return sum(float(c["cost_usd"]) for c in entry.get("calls", []) if datetime.fromisoformat(c["started_at"]) >= since)


def _graph(factory: Callable[..., Any] | None, context: Context, stage_cache: StageCache | None,
           runtime: CallRuntime) -> Any:
    if factory is None:
        from tierwise.graph.graph import build_graph

        factory = build_graph
    if stage_cache is None:
        return factory()
    return factory(cache=stage_cache, cache_policy=stage_cache_policy(_settings(context, runtime)))


def _settings(context: Context, runtime: CallRuntime) -> dict[str, Any]:
    """What, besides a stage's input, decides its answer: a resume under other settings must not reuse them."""
    return {"context": dataclasses.asdict(context),
            "registry": runtime.registry_for(context).data.model_dump(mode="json")}


def _check_same_input(done: dict[str, Any], items: list[Item], out: str | Path, input_path: str | Path) -> None:
    ids = {item.id for item in items}
    strangers = [key for key in done if key not in ids]
    if strangers:
        raise BatchInputError(
            f"{out} has results for ids that {input_path} does not have (e.g. {strangers[:3]}): is it the output of "
            "another input? Use another --out, or --overwrite"
        )
