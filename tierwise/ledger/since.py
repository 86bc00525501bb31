"""`--since`: a span back from now (30m, 24h, 7d, 2w) or a UTC date/time (2026-11-01, 2026-11-01T09:00)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from .periods import utc

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, now: datetime | None = None, option: str = "--since") -> datetime:
    """The UTC instant `text` names; ValueError with an example when it names none."""
    raw = text.strip()
    match = re.fullmatch(r"(\d+)\s*([mhdw])", raw.lower())
    if match:
        try:
            return utc(now) - timedelta(**{UNITS[match[2]]: int(match[1])})
        except OverflowError:  # timedelta tops out near 2.7 million years; datetimes start at year 1
            raise ValueError(f"{option}: {text!r} reaches back before the year 1; use a shorter span") from None
    try:
        return utc(datetime.fromisoformat(raw))
    except ValueError:
        example = "use a span like 7d, 24h, 2w or a date like 2026-11-01"
        raise ValueError(f"{option}: cannot read {text!r}; {example}") from None
