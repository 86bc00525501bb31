"""Every public error tierwise raises: errors a user can act on. The CLI prints their message, never a traceback.

All subclass `TierwiseError`; each is exported from `tierwise` too."""

from __future__ import annotations

from typing import Any


class TierwiseError(Exception):
    """Base class: a mistake in input, configuration or environment, explained in the user's terms."""


class InvalidInputError(TierwiseError, ValueError):
    """The request itself is unusable (empty, not text, ...). Raised before any model call."""


class RegistryError(TierwiseError, ValueError):
    """The tier registry (packaged, user file or environment override) is invalid."""


class UnknownStageError(TierwiseError, KeyError):
    """A stage name that the registry does not declare."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class BackendUnavailableError(TierwiseError, RuntimeError):
    """The chosen model backend cannot run here (e.g. the local model is not installed)."""


class InvalidArgumentError(InvalidInputError):
    """An argument of the Python API (context, concurrency, task_type, extract_schema, ...) has the wrong type or
    value. The message names the argument; raised before any model call."""


class OutputPathError(TierwiseError, ValueError):
    """An output path that cannot (or must not) be written: checked before any model call is paid for."""


class LedgerError(TierwiseError, RuntimeError):
    """The ledger cannot be opened, read or written (bad URL, unreachable server, missing driver)."""


class LedgerSchemaError(LedgerError):
    """The ledger's tables are not ones this tierwise reads (a newer or hand-edited schema version): a mistake to
    fix, not an outage to ride out, so commands refuse to start rather than answer without records."""


class BudgetExceededError(TierwiseError, RuntimeError):
    """A hard spend cap is reached: no new model call is made. The message names the cap that tripped.

    Raised by `call_stage` (a graph turns it into `failure.kind == "budget"` in its output); `records` holds the
    attempts of the stage call already made, and billed, before it was refused."""

    def __init__(self, message: str, *, cap: str, limit_usd: float, spent_usd: float) -> None:
        super().__init__(message)
        self.cap = cap  # "hard_daily_usd" or "hard_monthly_usd": the registry key to raise
        self.limit_usd = limit_usd
        self.spent_usd = spent_usd
        self.records: list[Any] = []
