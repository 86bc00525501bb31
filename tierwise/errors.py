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
