"""Prompt → sparse feature vector, with no vocabulary to ship: words and word pairs hashed into buckets.

Why these features: what makes a prompt hard for a cheap model is mostly its topic (MMLU subject words,
"integral", "statute") and its shape (length, how many numbers, code). Hashed uni/bi-grams capture the first,
a few coarse shape tokens the second. crc32 is stable across processes (Python's hash() is salted), so a
router saved today decides the same tomorrow. One prompt takes tens of microseconds.
"""

from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass

import numpy as np

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"\d")
_NUMERAL = re.compile(r"\d+(?:[.,]\d+)*")
_SYMBOL = re.compile(r"[%$/*+=^<>:?]")


@dataclass(frozen=True)
class Featurizer:
    """Hashed unigram+bigram presence plus shape tokens, L2-normalised per prompt."""

    n_bits: int = 18
    bigrams: bool = True
    max_chars: int = 20_000  # routing on the first 20k characters is plenty and bounds the latency

    @property
    def n_features(self) -> int:
        return 1 << self.n_bits

    def tokens(self, text: str) -> list[str]:
        text = text[: self.max_chars].lower()
        words = ["0" if _NUMBER.match(w) else w for w in _WORD.findall(text)]
        toks = list(words)
        if self.bigrams:
            toks += [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        numerals = _NUMERAL.findall(text)
        toks += [
            f"__chars:{int(math.log2(len(text) + 1))}",
            f"__words:{int(math.log2(len(words) + 1))}",
            f"__lines:{int(math.log2(text.count(chr(10)) + 1))}",
            f"__sentences:{min(text.count('. ') + text.count('? ') + 1, 12)}",
            f"__numbers:{min(len(numerals), 12)}",
            "__code" if ("```" in text or "def " in text or "{" in text) else "__prose",
        ]
        toks += ["__sym" + c for c in set(_SYMBOL.findall(text))]
        if numerals:  # arithmetic load: how big the numbers get, and whether decimals appear
            digits = max(len(n.replace(",", "").split(".")[0]) for n in numerals)
            toks.append(f"__digits:{min(digits, 8)}")
            if any("." in n for n in numerals):
                toks.append("__decimal")
        return toks

    def transform_one(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """(bucket indices, values) of one prompt; never empty (shape tokens are always there)."""
        mask = self.n_features - 1
        idx = np.unique(
            np.fromiter((zlib.crc32(t.encode()) & mask for t in self.tokens(text)), dtype=np.int64)
        )
        val = np.full(len(idx), 1.0 / math.sqrt(len(idx)))
        return idx, val

    def transform(self, texts: list[str] | tuple[str, ...]) -> Csr:
        parts = [self.transform_one(t) for t in texts]
        indptr = np.zeros(len(parts) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(i) for i, _ in parts])
        indices = np.concatenate([i for i, _ in parts]) if parts else np.zeros(0, np.int64)
        data = np.concatenate([v for _, v in parts]) if parts else np.zeros(0)
        return Csr(indptr, indices, data, self.n_features)


@dataclass(frozen=True)
class Csr:
    """Minimal CSR matrix: enough for X @ W and X.T @ G with numpy alone (no scipy dependency)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def compact(self) -> tuple[Csr, np.ndarray]:
        """Renumber columns to those actually used; returns (matrix, original column of each new one)."""
        used, inverse = np.unique(self.indices, return_inverse=True)
        return Csr(self.indptr, inverse.astype(np.int64), self.data, len(used)), used

    def rows(self, which: np.ndarray) -> Csr:
        which = np.asarray(which, dtype=int)
        lens = self.indptr[which + 1] - self.indptr[which]
        take = (
            np.concatenate([np.arange(self.indptr[r], self.indptr[r + 1]) for r in which])
            if len(which)
            else np.zeros(0, dtype=np.int64)
        )
        indptr = np.zeros(len(which) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(lens)
        take = np.asarray(take, dtype=np.int64)
        return Csr(indptr, self.indices[take], self.data[take], self.n_cols)

    def hstack(self, other: Csr) -> Csr:
        """[self | other]: the columns of `other` (same rows) appended after this matrix's."""
        if other.n_rows != self.n_rows:
            raise ValueError(f"hstack needs the same rows ({self.n_rows} vs {other.n_rows})")
        la, lb = np.diff(self.indptr), np.diff(other.indptr)
        indptr = np.zeros(self.n_rows + 1, dtype=np.int64)
        indptr[1:] = np.cumsum(la + lb)
        row_a = np.repeat(np.arange(self.n_rows), la)
        row_b = np.repeat(np.arange(self.n_rows), lb)
        at_a = indptr[row_a] + np.arange(len(self.indices)) - self.indptr[row_a]
        at_b = indptr[row_b] + la[row_b] + np.arange(len(other.indices)) - other.indptr[row_b]
        indices = np.empty(indptr[-1], dtype=np.int64)
        data = np.empty(indptr[-1])
        indices[at_a], data[at_a] = self.indices, self.data
        indices[at_b], data[at_b] = other.indices + self.n_cols, other.data
        return Csr(indptr, indices, data, self.n_cols + other.n_cols)

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ w for w of shape (n_cols, k); empty rows give 0 (segment sums via a cumulative sum)."""
        prod = self.data[:, None] * w[self.indices]
        cum = np.zeros((len(prod) + 1, w.shape[1]))
        np.cumsum(prod, axis=0, out=cum[1:])
        return cum[self.indptr[1:]] - cum[self.indptr[:-1]]

    def keep_columns(self, keep: np.ndarray) -> Csr:
        """Drop the entries of columns where `keep` is False (e.g. buckets seen in one prompt only)."""
        mask = keep[self.indices]
        indptr = np.concatenate([[0], np.cumsum(mask, dtype=np.int64)])[self.indptr]
        return Csr(indptr, self.indices[mask], self.data[mask], self.n_cols)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """X.T @ g for g of shape (n_rows, k)."""
        row = np.repeat(np.arange(self.n_rows), np.diff(self.indptr))
        contrib = self.data[:, None] * g[row]
        return np.stack(
            [
                np.bincount(self.indices, weights=contrib[:, j], minlength=self.n_cols)
                for j in range(g.shape[1])
            ],
            axis=1,
        )
