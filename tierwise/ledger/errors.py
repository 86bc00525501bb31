"""Errors the ledger and the spend guard raise; the CLI prints their message, never a traceback."""

from __future__ import annotations

from typing import Any

from tierwise.errors import TierwiseError


class LedgerError(TierwiseError, RuntimeError):
    """The ledger cannot be opened, read or written (bad URL, unreachable server, missing driver)."""


class BudgetExceededError(TierwiseError, RuntimeError):
    """A hard spend cap is reached: no new model call is made. The message names the cap that tripped."""

    def __init__(self, message: str, *, cap: str, limit_usd: float, spent_usd: float) -> None:
        super().__init__(message)
        self.cap = cap  # "hard_daily_usd" or "hard_monthly_usd": the registry key to raise
        self.limit_usd = limit_usd
        self.spent_usd = spent_usd
        self.records: list[Any] = []  # attempts of the stage call already made (and billed) before it was refused


class LedgerSchemaError(LedgerError):
    """The ledger's tables are not ones this tierwise reads (a newer or hand-edited schema version): a mistake to
    fix, not an outage to ride out, so commands refuse to start rather than answer without records."""
