"""dedupe (no model call): claims that say the same thing (word-set Jaccard ≥ 0.8) become one claim citing every
document that makes it, so Pro reads each fact once and the answer can cite all its sources."""

from __future__ import annotations

from tierwise.search.bm25 import tokenize
from tierwise.state.research import Claim, ResearchState

SIMILAR = 0.8
MAX_CLAIMS = 40  # bounds what the Pro stage reads


def similarity(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def merge(claims: list[Claim]) -> list[Claim]:
    merged: list[tuple[set[str], Claim]] = []
    for claim in claims:
        words = set(tokenize(claim.text))
        for i, (seen_words, seen) in enumerate(merged):
            if similarity(words, seen_words) >= SIMILAR:
                sources = seen.sources + [s for s in claim.sources if s not in seen.sources]
                merged[i] = (seen_words, Claim(text=seen.text, sources=sources))
                break
        else:
            merged.append((words, claim))
    return [claim for _, claim in merged]


def node(state: ResearchState) -> ResearchState:
    return {"steps": ["dedupe"], "claims": merge(state.get("raw_claims", []))[:MAX_CLAIMS]}
