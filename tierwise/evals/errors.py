"""One error type for bad eval input, so the CLI prints one line and exits 2 instead of a traceback."""

from __future__ import annotations

from tierwise.errors import InputFileError


class EvalError(InputFileError):
    """A cases file, eval result file or eval/suggest option that cannot be used; the message names where."""
