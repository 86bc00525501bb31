"""Deterministic token counting for scripted answers.

Real tokenizers are model-specific and slow to load; tests only need counts that are stable,
monotonic in text length and cheap. One token = one run of word characters or one punctuation mark.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    """Number of word/punctuation tokens in ``text``."""
    return sum(1 for _ in _TOKEN.finditer(text))


def truncate(text: str, max_tokens: int) -> str:
    """The prefix of ``text`` holding its first ``max_tokens`` tokens (original spacing kept)."""
    if max_tokens <= 0:
        return ""
    end = None
    for i, match in enumerate(_TOKEN.finditer(text)):
        if i == max_tokens:
            break
        end = match.end()
    else:
        return text
    return text[:end] if end is not None else ""


def split(text: str, tokens_per_chunk: int) -> list[str]:
    """Cut ``text`` into consecutive pieces of about ``tokens_per_chunk`` tokens each.

    Each piece keeps the whitespace that follows it, so ``"".join(pieces) == text``.
    """
    if tokens_per_chunk <= 0:
        raise ValueError("tokens_per_chunk must be positive")
    cuts = [m.start() for i, m in enumerate(_TOKEN.finditer(text)) if i and i % tokens_per_chunk == 0]
    bounds = [0, *cuts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a] or [text]
