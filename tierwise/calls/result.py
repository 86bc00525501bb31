"""What a stage call gives back: a `StageResult`, or a `ModelCallError` (tierwise.errors) carrying every priced
attempt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierwise.state.records import CallRecord


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
