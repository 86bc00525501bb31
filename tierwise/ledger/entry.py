"""What one ledger row holds: a CallRecord plus the request-level facts reports group by.

The prompt is kept as a sha256 (enough to spot repeats and join with your own logs) unless the user opts in to
storing its text: ledgers get shared and backed up, prompts often hold customer data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from tierwise.state.records import CallRecord

from .periods import utc


@dataclass(frozen=True)
class LedgerEntry:
    call_id: str
    stage: str
    tier: str
    model: str
    started_at: datetime
    request_id: str | None = None
    task_type: str | None = None
    route: str | None = None
    escalated: bool = False
    downgraded_from: str | None = None  # the tier the registry asked for, when the spend guard moved the stage
    service_tier: str = "standard"
    input_tokens: int = 0
    output_tokens: int = 0
    thinking_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    all_pro_cost_usd: float = 0.0
    latency_ms: float = 0.0
    outcome: str = "ok"
    error: str | None = None
    error_kind: str | None = None
    attempt: int = 1
    fallback: bool = False
    prompt_sha256: str | None = None
    prompt_text: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # CallRecord fields this schema has no column for yet

    @classmethod
    def from_record(
        cls,
        record: Any,
        *,
        request_id: str | None = None,
        route: str | None = None,
        escalated: bool | None = None,
        downgraded_from: str | None = None,
        service_tier: str | None = None,
        prompt: Any = None,
        store_prompt: bool = False,
        labels: dict[str, str] | None = None,
        tenants: dict[str, str] | None = None,
    ) -> LedgerEntry:
        """Every field of `record` (a CallRecord, or anything with `model_dump()`), plus what the caller knows.

        Keyword arguments win over same-named record fields; unknown record fields go to `extra`.
        """
        return cls.from_row(entry_row(record, request_id=request_id, route=route, escalated=escalated,
                                      downgraded_from=downgraded_from, service_tier=service_tier,
                                      labels=labels, tenants=tenants,
                                      **(prompt_columns(prompt, store_prompt) if prompt is not None else {})))

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> LedgerEntry:
        """The entry an `entry_row` (or a journal line) holds."""
        return cls(**{**row, "started_at": datetime.fromisoformat(row["started_at"])})

    @property
    def labels(self) -> dict[str, str]:
        """The labels the request carried (user, team...: its `labels` input), as given."""
        return dict(self.extra.get("labels") or {})

    @property
    def tenants(self) -> dict[str, str]:
        """The labels among them that budgets are kept per (`[budget.per_label]`): their counters count this call."""
        return dict(self.extra.get("tenants") or {})

    @property
    def purpose(self) -> str | None:
        """None for user traffic; "shadow" or "eval" for calls reports and the optimizer count apart."""
        return self.extra.get("purpose")

    def extra_json(self) -> str | None:
        return json.dumps(self.extra, sort_keys=True) if self.extra else None


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LedgerEntry))
_KNOWN = frozenset(COLUMNS) - {"extra"}
_PLAIN = (str, int, float, bool, type(None))  # JSON values as they are: no round trip needed


def entry_row(record: Any, *, prompt_sha256: str | None = None, prompt_text: str | None = None,
              **given: Any) -> dict[str, Any]:
    """The ledger row of `record` as plain JSON values (`started_at` as ISO text), `given` (request_id, route,
    escalated, downgraded_from, service_tier) winning over the record's own fields when not None.

    Why a dict and not a LedgerEntry: this is what the journal writes on the caller's path (hook.py), one JSON
    line per attempt; the LedgerEntry is built later, in the journal's writer thread."""
    # a CallRecord's fields are flat values: its __dict__ is its model_dump (python mode) at a twentieth the cost
    data = dict(record.__dict__) if type(record) is CallRecord else record.model_dump(mode="python")
    if data.get("service_tier") is None:  # a record not priced by the call path: the entry's default (standard)
        data.pop("service_tier", None)
    data.update({k: v for k, v in given.items() if v is not None})
    if prompt_sha256 is not None:
        data["prompt_sha256"], data["prompt_text"] = prompt_sha256, prompt_text
    extra = {k: v for k, v in data.items() if k not in _KNOWN}
    row = {k: v for k, v in data.items() if k in _KNOWN}
    row["started_at"] = utc(row.get("started_at")).isoformat()
    if not all(isinstance(v, _PLAIN) for v in extra.values()):  # on the hot path: skip the round trip
        extra = json.loads(json.dumps(extra, default=str))
    row["extra"] = extra
    return row


def prompt_columns(prompt: Any, store_prompt: bool = False) -> dict[str, str | None]:
    """The prompt as the ledger keeps it: its sha256, and its text only if the user opted in."""
    text = prompt_text(prompt)
    return {"prompt_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
            "prompt_text": text if store_prompt else None}


def prompt_text(prompt: Any) -> str:
    """A stable text form of a prompt: a string as is; messages as JSON [[role, content], ...]."""
    if isinstance(prompt, str):
        return prompt
    pairs = [_role_content(m) for m in prompt]
    return json.dumps(pairs, ensure_ascii=False, sort_keys=True, default=str)


def _role_content(message: Any) -> list[Any]:
    if isinstance(message, tuple | list) and len(message) == 2:
        return [str(message[0]), message[1]]
    if isinstance(message, dict):
        return [str(message.get("role", "")), message.get("content", "")]
    role = getattr(message, "type", type(message).__name__)
    return [str(role), getattr(message, "content", str(message))]
