"""The output file is the journal: one line per finished item, appended the moment it finishes.

That is what makes a batch resumable without a second file to keep in step: on resume, every id with a line
is done and is not run again; every other item runs. Each line goes out in one flushed write, so a kill -9
leaves at most a torn last line (no newline, or not JSON), which resume cuts off: that item runs again.
Lines are flushed to the OS at once (a killed process loses none) and fsync'ed at most a second apart
(a power cut loses at most the last second's lines, which then run again).

A write that fails (a full disk) raises `BatchOutputError` and leaves the file ending at its last whole line;
the journal then takes no more lines, so the runner stops and keeps the finished items that could not be written
(runner.py saves them elsewhere: they were paid for).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, create_model

from tierwise.display import PIPELINE_FIELDS
from tierwise.errors import BatchOutputError, InputFileError
from tierwise.strict import loads_json, validate

from .items import BatchInputError

SYNC_EVERY_S = 1.0


def result_line(entry: dict[str, Any]) -> str:
    """One item's result as the output file holds it: one JSON line."""
    return json.dumps(entry, ensure_ascii=False) + "\n"


class _LineHead(BaseModel):
    """What resume reads from a result line, typed: a hand-edited line (a cost written as text, a status that is
    not ok/failed) is named by line and field instead of crashing the resume."""

    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
    id: StrictStr | StrictInt
    line: StrictInt | None = None
    request_id: StrictStr | None = None
    metadata: dict[str, Any] | None = None
    status: Literal["ok", "failed"]
    error: dict[str, Any] | None = None
    total_cost_usd: Annotated[float, Field(ge=0)] | None = None


# The graph's answer fields (display.result_json and the pipelines' extras) are carried through, not read back;
# they are declared, so a key no tierwise writes (a typo, another program's line) is refused like everywhere else.
_BODY = ("answer", "route", "steps", "triage", "draft", "score", "escalated", "escalation_reason", "failure",
         "calls", "direct_pro_cost_usd", "net_saving_usd", "direct_pro_basis", "all_pro_cost_usd", "saving",
         *PIPELINE_FIELDS)
ResultLine: type[BaseModel] = create_model("ResultLine", __base__=_LineHead,
                                           **{name: (Any, None) for name in _BODY})  # type: ignore[call-overload]



class Journal:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._size = 0  # bytes of whole lines in the file
        self.broken: str | None = None  # why the last write failed; no line is taken after one
        self._synced = time.monotonic()

    def open(self, *, resume: bool, overwrite: bool, retry_failed: bool = False) -> dict[str, dict[str, Any]]:
        """Open for appending; returns the lines already there by id (empty unless resuming)."""
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists and not (resume or overwrite):
            raise BatchInputError(
                f"{self.path} already has results: add --resume to finish that batch (items with a line there "
                "are skipped), or --overwrite to start over"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        done: dict[str, dict[str, Any]] = {}
        if exists and resume:
            done = self._load()
            if retry_failed and any(entry.get("status") != "ok" for entry in done.values()):
                done = {key: entry for key, entry in done.items() if entry.get("status") == "ok"}
                self._rewrite(done.values())
        flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_APPEND if resume else os.O_TRUNC)
        self._fd = os.open(self.path, flags, 0o666)
        self._size = os.fstat(self._fd).st_size
        return done

    def append(self, entry: dict[str, Any]) -> None:
        """One item's result, as one line, out of this process at once (one unbuffered write)."""
        assert self._fd is not None, "open() first"
        if self.broken is not None:
            raise BatchOutputError(self.broken)
        line = result_line(entry).encode("utf-8")
        try:
            written = 0
            while written < len(line):
                written += os.write(self._fd, line[written:])
            if time.monotonic() - self._synced >= SYNC_EVERY_S:
                os.fsync(self._fd)
                self._synced = time.monotonic()
        except OSError as exc:
            self.broken = f"cannot write {self.path}: {exc.strerror or exc}"
            try:  # a part of the line may be in: cut the file back to its last whole line (needs no space)
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass  # resume cuts a torn last line anyway
            raise BatchOutputError(self.broken) from None
        self._size += len(line)

    def close(self) -> None:
        """Sync and close. A sync that fails is a BatchOutputError (the lines may not be on disk), unless a write
        had failed already (that was reported)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        except OSError as exc:
            if self.broken is None:
                self.broken = f"cannot write {self.path}: {exc.strerror or exc}"
                raise BatchOutputError(self.broken) from None
        finally:
            os.close(fd)

    def _load(self) -> dict[str, dict[str, Any]]:
        data = self.path.read_bytes()
        done: dict[str, dict[str, Any]] = {}
        good_end = 0
        lines = data.split(b"\n")
        for number, raw in enumerate(lines, start=1):
            last = number == len(lines)
            if last and not raw:
                break  # the file ended with a newline, as it should
            try:
                entry = loads_json(raw, source=self.path, line=number)
                if not isinstance(entry, dict) or "id" not in entry:
                    raise InputFileError("not a result line", source=self.path, line=number)
            except InputFileError as exc:
                if last:
                    break  # the torn last line of a killed run: cut it off below, that item runs again
                raise BatchInputError(
                    f"not a tierwise batch result line ({exc.problem}); is this the output of another program? "
                    "Use another --out, or --overwrite", source=self.path, line=number) from None
            if not last:
                try:
                    validate(ResultLine, entry, source=self.path, line=number)
                except InputFileError as exc:
                    raise BatchInputError(f"{exc}. Was the line edited by hand? Fix or delete that line (its item "
                                          "then runs again), or start over with --overwrite") from None
            if last:
                break  # complete JSON but no newline: its write was cut short, so it is not trusted
            done[str(entry["id"])] = entry
            good_end += len(raw) + 1
        if good_end < len(data):
            with self.path.open("r+b") as file:
                file.truncate(good_end)
        return done

    def _rewrite(self, entries: Any) -> None:
        """Replace the file atomically (write a sibling, fsync, rename): a crash leaves the old or the new."""
        tmp = self.path.with_name(self.path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as file:
            for entry in entries:
                file.write(result_line(entry))
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, self.path)
