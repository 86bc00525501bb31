"""Errors a user can act on. The CLI prints their message, never a traceback."""


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


class ConfigurationError(BackendUnavailableError):
    """A setting that can never work (no host in a URL, missing credentials, an unsupported protocol): refused at
    once, naming the setting, instead of being retried as if the service were down."""


class RegistryFileError(InputFileError, RegistryError):
    """A registry file (or TIERWISE__* variable) that cannot be read: both an input-file error and a registry
    error, so every handler of either sees it."""
