"""Synthetic N-model outcome tables: prompts whose topic words decide which rung of the ladder is needed."""

from __future__ import annotations

import csv
import random
from pathlib import Path

TOPICS = {
    "easy": "capital colour animal fruit weekday spelling synonym rhyme".split(),
    "medium": "derivative probability chemistry statute amortise enzyme voltage syllogism".split(),
    "hard": "homology eigenvalue tort jurisprudence thermodynamics topology cryptanalysis proof".split(),
}
FILLER = "the a of which what is explain why how in for given consider".split()
LADDER = (("lite-1", 0.0001), ("flash-2", 0.0004), ("pro-3", 0.002))


def synthetic_rows(n: int, seed: int, drafts: bool = False) -> list[dict[str, object]]:
    """3-model ladder: lite solves easy prompts, flash medium ones, pro nearly all; topic words tell which."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        level = rng.choice(list(TOPICS))
        words = [rng.choice(TOPICS[level]) for _ in range(3)] + [rng.choice(FILLER) for _ in range(6)]
        rng.shuffle(words)
        prompt = " ".join(words) + "?"
        p_ok = {"easy": (0.95, 0.97, 0.98), "medium": (0.15, 0.9, 0.95), "hard": (0.05, 0.2, 0.9)}[level]
        for (model, price), p in zip(LADDER, p_ok, strict=True):
            ok = rng.random() < p
            row: dict[str, object] = {
                "prompt_id": f"s{seed}-{i}",
                "prompt": prompt,
                "model": model,
                "quality": 1.0 if ok else 0.0,
                "cost_usd": round(price * (1 + len(prompt) / 500), 8),
            }
            if drafts:
                row["draft_score"] = rng.choice([8, 9, 10]) if ok else rng.choice([2, 3, 4, 5, 6, 8])
                row["confidence"] = (
                    rng.choice(["high", "medium"]) if ok else rng.choice(["low", "medium", "high"])
                )
            rows.append(row)
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> Path:
    cols = list(dict.fromkeys(k for r in rows for k in r))
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    return path
