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


# Media parts, as Gemini bills them (ai.google.dev/gemini-api/docs/tokens): an image 258 tokens, a PDF page
# 258, audio 32 per second, video 263 per second. Durations are estimated from the bytes (a WAV header when
# there is one; else ~16 kB/s of audio, ~250 kB/s of video); a fileData part (no bytes here) counts as one
# image, page or second.
IMAGE_TOKENS = 258
PAGE_TOKENS = 258
AUDIO_TOKENS_PER_SECOND = 32
VIDEO_TOKENS_PER_SECOND = 263
_AUDIO_BYTES_PER_SECOND = 16_000
_VIDEO_BYTES_PER_SECOND = 250_000
_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def media_tokens(modality: str, data: bytes | None) -> int:
    """Prompt tokens of one inlineData (``data``) or fileData (``None``) part of ``modality``."""
    if modality == "TEXT":
        return count_tokens(data.decode("utf-8", "replace")) if data else 0
    if modality == "IMAGE":
        return IMAGE_TOKENS
    if modality == "DOCUMENT":
        return PAGE_TOKENS * max(1, len(_PDF_PAGE.findall(data or b"")))
    seconds = _seconds(modality, data)
    rate = AUDIO_TOKENS_PER_SECOND if modality == "AUDIO" else VIDEO_TOKENS_PER_SECOND
    return rate * seconds


def _seconds(modality: str, data: bytes | None) -> int:
    if not data:
        return 1
    if modality == "AUDIO" and data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) >= 44:
        byte_rate = int.from_bytes(data[28:32], "little")
        if byte_rate:
            return max(1, round((len(data) - 44) / byte_rate))
    per_second = _AUDIO_BYTES_PER_SECOND if modality == "AUDIO" else _VIDEO_BYTES_PER_SECOND
    return max(1, round(len(data) / per_second))
