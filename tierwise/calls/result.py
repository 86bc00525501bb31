"""What a stage call gives back: a `StageResult`, or a `ModelCallError` carrying every priced attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierwise.errors import TierwiseError
from tierwise.state.records import CallRecord


class ModelCallError(TierwiseError, RuntimeError):
    """Every model the stage may use failed. `.records` holds each attempt, priced; `.kind` the last failure."""

    def __init__(self, message: str, records: list[CallRecord], kind: str) -> None:
        super().__init__(message)
        self.records = records
        self.kind = kind

    @property
    def record(self) -> CallRecord:
        return self.records[-1]


@dataclass(frozen=True)
class StageResult:
    """What a stage returned. `value` is text, a parsed schema instance, or None when unusable."""

    value: Any
    records: list[CallRecord]
    message: Any = None

    @property
    def record(self) -> CallRecord:
        return self.records[-1]

    @property
    def ok(self) -> bool:
        return self.record.outcome == "ok"
