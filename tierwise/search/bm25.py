"""Okapi BM25 in pure Python: enough for a few thousand local documents, and no dependency to install."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

_WORD = re.compile(r"[a-z0-9]+")
# Words so common they only add noise to a keyword ranking.
STOPWORDS = frozenset(
    "a an and are as at be by can do does for from has have how i in is it its of on or that the their them "
    "this to was what when where which who why will with you your".split()
)


def tokenize(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


class BM25:
    """Scores documents (token lists) for a query; `k1` saturates term frequency, `b` normalises length."""

    def __init__(self, documents: Sequence[list[str]], *, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.frequencies = [Counter(doc) for doc in documents]
        self.lengths = [len(doc) for doc in documents]
        self.average_length = (sum(self.lengths) / len(documents)) if documents else 0.0
        df = Counter(term for freq in self.frequencies for term in freq)
        n = len(documents)
        # The "+ 1" keeps idf positive for terms in most documents (Lucene's variant).
        self.idf = {term: math.log((n - count + 0.5) / (count + 0.5) + 1) for term, count in df.items()}

    def scores(self, query: list[str]) -> list[float]:
        out = []
        for freq, length in zip(self.frequencies, self.lengths, strict=True):
            norm = self.k1 * (1 - self.b + self.b * length / (self.average_length or 1))
            out.append(sum(self.idf[t] * freq[t] * (self.k1 + 1) / (freq[t] + norm) for t in query if t in freq))
        return out

    def top(self, query: list[str], k: int) -> list[tuple[int, float]]:
        """(document index, score) of the best `k` documents that match at all, best first."""
        ranked = sorted(enumerate(self.scores(query)), key=lambda pair: (-pair[1], pair[0]))
        return [(i, s) for i, s in ranked[:k] if s > 0]
