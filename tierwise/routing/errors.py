"""One error type for bad outcome data, so the CLI can print one line and exit 2 instead of a traceback."""

from __future__ import annotations

from tierwise.errors import InputFileError


class OutcomeError(InputFileError):
    """An outcome table or router file is unusable. `str(exc)` names the file and the problem."""

    def __init__(self, source: object, problem: str, *, line: int | None = None) -> None:
        super().__init__(problem, source=source, line=line)
        self.source = str(source)
