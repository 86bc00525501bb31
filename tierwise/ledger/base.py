"""The ledger interface: every priced call, stored once, plus the spend counters the guard reads."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime

from .entry import LedgerEntry
from .periods import Spend
from .shadow import ShadowPair


class Ledger(ABC):
    """Persisted CallRecords. Thread-safe; many processes may share one database.

    `record` is idempotent per call id, and adds the call's cost to its day/month/task counters in the same
    transaction, so the counters always equal the sum of the stored rows.
    """

    url: str  # where it lives, without any password

    @abstractmethod
    def record(self, entry: LedgerEntry) -> Spend:
        """Store `entry` unless its call id is already stored; return the counters right after (same transaction)."""

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
