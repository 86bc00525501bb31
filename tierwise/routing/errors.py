"""The routing package's error, defined with every other public error in tierwise.errors."""

from tierwise.errors import OutcomeError

__all__ = ["OutcomeError"]
