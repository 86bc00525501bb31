"""Spend windows: UTC days and months, and the counter keys a call adds to.

Caps are per UTC day/month so that every worker, whatever its time zone, agrees on which counter it reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

ALL = "*"
SHADOW = "shadow"  # shadow traffic's own counters: its spend never moves the budget's caps


def utc(moment: datetime | None = None) -> datetime:
    """`moment` in UTC (now if None); a naive datetime is taken to be UTC already."""
    if moment is None:
        return datetime.now(UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_key(moment: datetime) -> str:
    return "day:" + utc(moment).date().isoformat()


def month_key(moment: datetime) -> str:
    return "month:" + utc(moment).strftime("%Y-%m")


def task_scope(task_type: str) -> str:
    return "task:" + task_type


def tenant_scope(key: str, value: str) -> str:
    """The counter scope of one tenant (`[budget.per_label.KEY]`, the request's label KEY = value). The value is
    stored as it is, as data: nothing ever parses it but `split_scope`, which splits at the first "="."""
    return f"label:{key}={value}"


def refusal_scope(key: str, value: str) -> str:
    """Where a tenant's refused calls are counted (`calls` of this scope's day row)."""
    return f"refused:{key}={value}"


def split_scope(scope: str, kind: str, key: str) -> str | None:
    """The label value of a `kind` ("label" or "refused") scope for label `key`, or None if it is another's."""
    prefix = f"{kind}:{key}="
    return scope[len(prefix):] if scope.startswith(prefix) else None


def counter_keys(moment: datetime, task_type: str | None, purpose: str | None = None,
                 tenants: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(period, scope) counters one call adds to, in one fixed order so concurrent writers never deadlock.

    A shadow call adds to the shadow counters only: it is capped by `[shadow] daily_usd`, not by `[budget]`.
    `tenants`: the budgeted labels the call carried (`[budget.per_label]`): their day and month counters too."""
    if purpose == SHADOW:
        return sorted([(day_key(moment), SHADOW), (month_key(moment), SHADOW)])
    keys = [(day_key(moment), ALL), (month_key(moment), ALL)]
    if task_type:
        keys.append((day_key(moment), task_scope(task_type)))
    for key, value in (tenants or {}).items():
        keys += [(day_key(moment), tenant_scope(key, value)), (month_key(moment), tenant_scope(key, value))]
    return sorted(keys)


@dataclass(frozen=True)
class TenantSpend:
    """One tenant's committed spend today and this month (UTC), and what its attempts in flight hold."""

    day_usd: float = 0.0
    month_usd: float = 0.0
    reserved_day_usd: float = 0.0
    reserved_month_usd: float = 0.0

    def held_day(self) -> float:
        return self.day_usd + self.reserved_day_usd

    def held_month(self) -> float:
        return self.month_usd + self.reserved_month_usd


@dataclass(frozen=True)
class TenantLimit:
    """A tenant's hard caps, as `Ledger.reserve` checks them (None: no such cap)."""

    scope: str
    hard_day_usd: float | None = None
    hard_month_usd: float | None = None


@dataclass(frozen=True)
class Spend:
    """Committed spend at one instant: today's and this month's (UTC), and today's for one task type."""

    day: str
    month: str
    day_usd: float = 0.0
    month_usd: float = 0.0
    task_type: str | None = None
    task_day_usd: float = 0.0
    inserted: bool = True  # False when a record was a duplicate of one already stored (nothing added)
    # Held by attempts in flight (their worst case, until settled): see `Ledger.reserve`.
    reserved_day_usd: float = 0.0
    reserved_month_usd: float = 0.0
    reserved_task_day_usd: float = 0.0

    def held_day(self) -> float:
        """Spent today plus what calls in flight may still add."""
        return self.day_usd + self.reserved_day_usd

    def held_month(self) -> float:
        return self.month_usd + self.reserved_month_usd

    def held_task_day(self) -> float:
        return self.task_day_usd + self.reserved_task_day_usd

    @classmethod
    def from_counters(
        cls, moment: datetime, task_type: str | None, counters: dict[tuple[str, str], float], inserted: bool = True,
        reserved: tuple[float, float, float] = (0.0, 0.0, 0.0),
    ) -> Spend:
        day, month = day_key(moment), month_key(moment)
        return cls(
            reserved_day_usd=reserved[0],
            reserved_month_usd=reserved[1],
            reserved_task_day_usd=reserved[2],
            day=day.removeprefix("day:"),
            month=month.removeprefix("month:"),
            day_usd=counters.get((day, ALL), 0.0),
            month_usd=counters.get((month, ALL), 0.0),
            task_type=task_type,
            task_day_usd=counters.get((day, task_scope(task_type)), 0.0) if task_type else 0.0,
            inserted=inserted,
        )
