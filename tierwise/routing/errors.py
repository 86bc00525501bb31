"""One error type for bad outcome data, so the CLI can print one line and exit 2 instead of a traceback."""

from __future__ import annotations


class OutcomeError(ValueError):
    """An outcome table or router file is unusable. `str(exc)` names the file and the problem."""

    def __init__(self, source: object, problem: str) -> None:
        self.source = str(source)
        self.problem = problem
        super().__init__(f"{self.source}: {problem}")
