"""The batch's progress line: done/total, failures, dollars so far, ETA (rich, on stderr).

On a terminal it redraws in place; elsewhere (CI logs, pipes) it prints a plain line every few seconds, so
logs show progress without thousands of redraw frames.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

PLAIN_EVERY_S = 5.0


class BatchProgress:
    def __init__(self, total: int, *, done: int = 0, failed: int = 0, cost_usd: float = 0.0, quiet: bool = False,
                 console: Console | None = None, jobs: Callable[[], str] | None = None) -> None:
        self.jobs = jobs  # --api batch: the Batch API jobs and their states, shown beside the counts
        self.total, self.done, self.failed, self.cost_usd = total, done, failed, cost_usd
        self.console = console or Console(stderr=True)
        self.quiet = quiet
        self.live = not quiet and self.console.is_terminal
        self._progress: Progress | None = None
        self._task: Any = None
        self._printed = 0.0
        self._started = time.monotonic()
        self._resumed_from = done

    def __enter__(self) -> BatchProgress:
        if self.live:
            self._progress = Progress(
                TextColumn("batch"), BarColumn(), MofNCompleteColumn(),
                TextColumn("[red]{task.fields[failed]} failed"), TextColumn("${task.fields[cost]:.4f}"),
                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[jobs]}"),
                console=self.console, transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("batch", total=self.total, completed=self.done,
                                                 failed=self.failed, cost=self.cost_usd, jobs=self._jobs())
        return self

    def advance(self, *, failed: bool, cost_usd: float) -> None:
        self.done += 1
        self.failed += failed
        self.cost_usd += cost_usd
        if self._progress is not None:
            self._progress.update(self._task, completed=self.done, failed=self.failed, cost=self.cost_usd,
                                  jobs=self._jobs())
        elif not self.quiet and time.monotonic() - self._printed >= PLAIN_EVERY_S:
            self._printed = time.monotonic()
            self._plain()

    def jobs_changed(self) -> None:
        """A Batch API job was created or changed state: redraw (or, without a terminal, print now and then)."""
        if self._progress is not None:
            self._progress.update(self._task, jobs=self._jobs())
        elif not self.quiet and time.monotonic() - self._printed >= PLAIN_EVERY_S:
            self._printed = time.monotonic()
            self._plain()

    def _jobs(self) -> str:
        return self.jobs() if self.jobs is not None else ""

    def _plain(self) -> None:
        ran = self.done - self._resumed_from
        elapsed = time.monotonic() - self._started
        eta = f"{(self.total - self.done) * elapsed / ran:.0f} s" if ran else "-"
        jobs = f"; {self._jobs()}" if self.jobs is not None else ""
        print(f"batch {self.done}/{self.total} done, {self.failed} failed, ${self.cost_usd:.4f} so far, "
              f"ETA {eta}{jobs}",
              file=sys.stderr, flush=True)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()
        elif not self.quiet:
            self._plain()
