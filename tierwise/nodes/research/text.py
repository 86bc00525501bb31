"""Tidy lists of short strings that models return: trimmed, non-empty, no case-insensitive repeats, capped."""

from __future__ import annotations

from collections.abc import Iterable


def tidy(items: Iterable[str], *, limit: int, max_chars: int) -> list[str]:
    out, seen = [], set()
    for item in items:
        text = " ".join(str(item).split())[:max_chars]
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return out[:limit]
