"""Order a batch so that requests sharing a prompt prefix go out together.

Gemini caches a repeated prompt prefix implicitly (cached input tokens bill at a fraction of the input rate),
but only while the same prefix arrives again within minutes. Every stage's prompt starts with the same system
text; what differs is the request, so sorting by (task type, request text) puts requests with the longest
common beginnings (one template, one document, one customer's thread) next to each other. The sort is stable,
and the output names each item by its id and input line, so the order changes nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence

from .items import Item


def by_shared_prefix(items: Sequence[Item]) -> list[Item]:
    """Items of one task type together, and within it in text order: neighbours share the longest prefixes."""
    return sorted(items, key=lambda item: (item.task_type or "", item.input))


def shared_prefix_chars(items: Sequence[Item]) -> int:
    """Characters of input each item shares with the one sent before it, summed: what the order achieves."""
    return sum(_common(a.input, b.input) for a, b in zip(items, items[1:], strict=False))


def _common(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n
