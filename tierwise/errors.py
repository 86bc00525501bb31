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


class InputFileError(InvalidInputError):
    """A file or environment variable tierwise reads is unusable. One type for every format (batch lines, eval
    cases, outcome tables, cassettes, registry files, batch outputs being resumed, stage caches, env vars): it
    names the source, the line and the field, so the CLI prints it as one `error:` line (exit 2)."""

    def __init__(self, problem: str, *, source: object = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.source = None if source is None else str(source)
        self.line, self.field, self.problem = line, field, problem
        where = "".join(part for part in (self.source, f":{line}" if line is not None and self.source else
                                          (f"line {line}" if line is not None else None)) if part)
        parts = [part for part in (where, field) if part]
        super().__init__(": ".join([*parts, problem]))


class OutputLockedError(TierwiseError, RuntimeError):
    """Another process is writing the same output (batch --out, a record folder, an outcome table)."""


class ConfigurationError(BackendUnavailableError, InvalidInputError):
    """A setting that can never work (no host in a URL, missing credentials, an unsupported protocol): refused at
    once, naming the setting, instead of being retried as if the service were down."""


class RegistryFileError(InputFileError, RegistryError):
    """A registry file (or TIERWISE__* variable) that cannot be read: both an input-file error and a registry
    error, so every handler of either sees it."""


class ModelCallError(TierwiseError, RuntimeError):
    """Every model the stage may use failed. `.records` holds each attempt (CallRecords), priced; `.kind` the last
    failure."""

    def __init__(self, message: str, records: list[Any], kind: str) -> None:
        super().__init__(message)
        self.records = records
        self.kind = kind

    @property
    def record(self) -> Any:
        return self.records[-1]


class EvalError(InputFileError):
    """A cases file, eval result file or eval/suggest option that cannot be used; the message names where."""


class OutcomeError(InputFileError):
    """An outcome table or router file is unusable. `str(exc)` names the file and the problem."""

    def __init__(self, source: object, problem: str, *, line: int | None = None) -> None:
        super().__init__(problem, source=source, line=line)
        self.source = str(source)


class BatchInputError(InputFileError):
    """A batch input line that cannot be run; the message names the file, line and field."""


class BatchOutputError(OutputPathError):
    """A result line could not be written to the batch output file (a full disk, an I/O error)."""


class FaultSpecError(InputFileError):
    """An emulator fault spec that cannot be used; the message names the bad part."""


class EmulatorRuleError(InputFileError):
    """An emulator answer rule (a cassette, a demo rule) that cannot be used; the message names where."""


class LocalBackendUnavailable(BackendUnavailableError):
    """The local model cannot run: llama-cpp-python or the SmolLM2 weights are not installed (tierwise[local])."""
