"""Priced CallRecords and registries for ledger tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from tierwise.state import CallRecord
from tierwise.tiers import build_registry


def record(cost: float = 0.01, *, stage: str = "draft", tier: str = "lite", model: str = "gemini-3.5-flash-lite",
           call_id: str | None = None, started_at: datetime | None = None, **fields: Any) -> CallRecord:
    return CallRecord(
        call_id=call_id or uuid.uuid4().hex, stage=stage, tier=tier, model=model, cost_usd=cost,
        started_at=started_at or datetime.now(UTC), **fields,
    )


def registry(budget: dict[str, Any] | None = None, ledger: dict[str, Any] | None = None):
    overrides: dict[str, Any] = {}
    if budget is not None:
        overrides["budget"] = budget
    if ledger is not None:
        overrides["ledger"] = ledger
    return build_registry(overrides=overrides, env={})
