"""The ledger interface: every priced call, stored once, plus the spend counters the guard reads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .entry import LedgerEntry
from .periods import Spend, TenantLimit, TenantSpend
from .shadow import ShadowPair


@dataclass(frozen=True)
class Hold:
    """What `Ledger.reserve` decided: `admitted` (the reservation is stored), the spend it decided on — committed
    and held by attempts in flight, this one included when admitted — and how much it holds."""

    admitted: bool
    spend: Spend
    tenants: dict[str, TenantSpend] = field(default_factory=dict)  # per tenant scope asked about (see `reserve`)
    usd: float = 0.0  # what it holds: the amount asked, or less when `min_usd` let it take what was left


@dataclass(frozen=True)
class GoodCall:
    """One good call as `Ledger.good_calls` lists it: what the economics' medians read."""

    route: str | None
    stage: str
    tier: str
    outcome: str
    thinking_tokens: int


class Ledger(ABC):
    """Persisted CallRecords. Thread-safe; many processes may share one database.

    `record` is idempotent per call id, and adds the call's cost to its day/month/task counters in the same
    transaction, so the counters always equal the sum of the stored rows.
    """

    url: str  # where it lives, without any password

    @abstractmethod
    def record(self, entry: LedgerEntry, reservation_id: str | None = None) -> Spend:
        """Store `entry` unless its call id is already stored; return the counters right after (same transaction).

        `reservation_id`: the attempt's reservation, settled in the same transaction — its worst case stops being
        held as the real cost is added, so no reader ever sees the attempt counted twice or not at all."""

    @abstractmethod
    def reserve(self, reservation_id: str, usd: float, *, task_type: str | None, expires_at: float,
                hard_day_usd: float | None, hard_month_usd: float | None, at: datetime | None = None,
                tenants: Sequence[TenantLimit] = (), min_usd: float | None = None) -> Hold:
        """Hold `usd` for an attempt about to be made, atomically with the check: admitted only if committed spend
        plus every live reservation plus `usd` stays within each hard cap given (None: no cap) — the global ones,
        and each of `tenants`' own (its committed spend and its own holds only: one tenant's spend never counts
        against another's cap). Across threads, processes and machines sharing the database, no two reservations
        can both take the last of a cap. `expires_at` (seconds since the epoch): after it the hold no longer
        counts (its process died).

        `min_usd`: when `usd` cannot fit even once every reservation in flight settles, hold what is left under the
        tightest cap instead, if that is at least `min_usd` (the caller then limits the attempt to that amount)."""

    @abstractmethod
    def release(self, reservation_id: str) -> None:
        """Drop a reservation that was not settled (the attempt never ran, or its record could not be stored)."""

    def tenant_spend(self, scopes: Sequence[str], at: datetime | None = None) -> dict[str, TenantSpend]:
        """Per tenant scope (`periods.tenant_scope`): committed spend and live holds, today and this month."""
        raise NotImplementedError(f"{type(self).__name__} keeps no per-tenant budgets")

    def output_tokens(self, stage: str, model: str, limit: int) -> list[int]:
        """Output tokens (thinking included) of the `limit` latest good answers of `stage` on `model`."""
        raise NotImplementedError(f"{type(self).__name__} does not list output tokens")

    def good_calls(self, tier: str, since: datetime, limit: int) -> list[GoodCall]:
        """The `limit` newest good (`outcome = "ok"`) calls on `tier` started since `since`, newest first."""
        raise NotImplementedError(f"{type(self).__name__} does not list calls by tier")

    def count_refusal(self, scopes: Sequence[str], at: datetime | None = None) -> None:
        """Count one refused call today for each refusal scope (`periods.refusal_scope`)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no per-tenant budgets")

    def label_totals(self, key: str, at: datetime | None = None) -> dict[str, dict[str, float]]:
        """Per value of label `key`: day_usd, month_usd, calls_today, refused_today."""
        raise NotImplementedError(f"{type(self).__name__} keeps no per-tenant budgets")

    @abstractmethod
    def spend(self, at: datetime | None = None, task_type: str | None = None) -> Spend:
        """Committed spend for the UTC day and month of `at` (now if None), and for `task_type` that day."""

    @abstractmethod
    def entries(self, since: datetime | None = None, until: datetime | None = None) -> list[LedgerEntry]:
        """Stored calls started in [since, until), oldest first."""

    def record_shadow(self, pair: ShadowPair) -> bool:
        """Store a shadow pair and its verdict (see shadow.py); True if it was new."""
        raise NotImplementedError(f"{type(self).__name__} does not store shadow pairs")

    def shadow_pairs(self, since: datetime | None = None, until: datetime | None = None) -> list[ShadowPair]:
        """Stored shadow pairs started in [since, until), oldest first."""
        raise NotImplementedError(f"{type(self).__name__} does not store shadow pairs")

    def shadow_spend(self, at: datetime | None = None) -> float:
        """Shadow spend committed for the UTC day of `at` (now if None)."""
        raise NotImplementedError(f"{type(self).__name__} does not count shadow spend")

    @abstractmethod
    def close(self) -> None:
        """Release connections. The ledger cannot be used afterwards."""

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"
