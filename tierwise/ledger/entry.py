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
    ) -> LedgerEntry:
        """Every field of `record` (a CallRecord, or anything with `model_dump()`), plus what the caller knows.

        Keyword arguments win over same-named record fields; unknown record fields go to `extra`.
        """
        data = dict(record.model_dump(mode="python"))
        given = {"request_id": request_id, "route": route, "escalated": escalated,
                 "downgraded_from": downgraded_from, "service_tier": service_tier}
        data.update({k: v for k, v in given.items() if v is not None})
        if prompt is not None:
            text = prompt_text(prompt)
            data["prompt_sha256"] = hashlib.sha256(text.encode("utf-8")).hexdigest()
            data["prompt_text"] = text if store_prompt else None
        extra = {k: v for k, v in data.items() if k not in _KNOWN}
        values = {k: v for k, v in data.items() if k in _KNOWN}
        values["started_at"] = utc(values.get("started_at"))
        if not all(isinstance(v, _PLAIN) for v in extra.values()):  # on the hot path: skip the round trip
            extra = json.loads(json.dumps(extra, default=str))
        return cls(**values, extra=extra)

    @property
    def purpose(self) -> str | None:
        """None for user traffic; "shadow" or "eval" for calls reports and the optimizer count apart."""
        return self.extra.get("purpose")

    def extra_json(self) -> str | None:
        return json.dumps(self.extra, sort_keys=True) if self.extra else None


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(LedgerEntry))
_KNOWN = frozenset(COLUMNS) - {"extra"}
_PLAIN = (str, int, float, bool, type(None))  # JSON values as they are: no round trip needed


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
