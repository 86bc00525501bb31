"""Routing labels from what the ledger holds: which tier was good enough for which request.

Signals, strongest first (one row per request; a request with a stronger signal is not counted again):
- `shadow`: a draft re-run one tier up and both answers judged (tierwise_shadow): each tier's quality is its
  judge score / 10, each cost what the call cost — a complete row, the only kind that prices the top tier;
- `judge`: a cheap draft the judge passed (no escalation followed): the cheap tier's quality 1, the top unknown;
- `escalation`: a cheap draft that was escalated to Pro (judge score or self-confidence below the threshold):
  the cheap tier's quality 0, the top unknown;
- `eval`: `tierwise eval` outcome tables (per case × tier, the checker's quality and the call's cost).

A request's text is what the draft stage was sent as its user message, so the ledger must store prompt text
(`[ledger] store_prompts = true`); with hashes only there is nothing to learn words from, and this says so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from tierwise.errors import EvalError
from tierwise.ledger.entry import LedgerEntry
from tierwise.ledger.shadow import ShadowPair
from tierwise.prompts import render
from tierwise.routing.adapt import Labels

SIGNALS = ("shadow", "judge", "escalation", "eval")
DRAFT_STAGE = "draft"
ROUTES_WITH_JUDGE = ("simple",)  # the moderate route escalates on self-confidence, then asks the judge
_MARK = "\x00"


@dataclass(frozen=True)
class LedgerLabels:
    labels: Labels
    counts: dict[str, int]  # rows per signal, every signal listed
    skipped: dict[str, int]  # what could not be used, and why (e.g. "no prompt text": 40)
    newest: datetime | None  # the latest labelled call: a router trained now has seen labels up to here

    def summary(self) -> str:
        parts = [f"{self.counts[s]} {s}" for s in SIGNALS]
        text = f"{self.labels.n} labelled requests ({', '.join(parts)})"
        if self.skipped:
            text += "; not usable: " + ", ".join(f"{n} {why}" for why, n in self.skipped.items())
        return text


def request_text(entry: LedgerEntry) -> str | None:
    """The user's request as the stage was sent it (its template's user part stripped); None without text."""
    if not entry.prompt_text:
        return None
    try:
        pairs = json.loads(entry.prompt_text)
    except ValueError:
        return None
    users = [str(content) for role, content in pairs if role in ("user", "human")] if isinstance(pairs, list) else []
    if not users:
        return None
    text = users[-1]
    try:
        template = render(entry.stage, input=_MARK)[1][1]
    except (FileNotFoundError, KeyError, ValueError):
        return text
    head, _, tail = template.partition(_MARK)
    if text.startswith(head) and text.endswith(tail):
        text = text[len(head) : len(text) - len(tail)]
    return text.strip() or None


def ledger_labels(entries: Sequence[LedgerEntry], pairs: Sequence[ShadowPair], tier_order: Sequence[str],
                  eval_rows: Iterable[Mapping[str, Any]] = (), source: str = "ledger") -> LedgerLabels:
    """Labels from traffic (`entries`), shadow pairs and eval rows; the ladder is the tiers they mention, in
    `tier_order` (cheapest first). EvalError when fewer than two tiers are labelled or nothing is usable."""
    by_call = {e.call_id: e for e in entries}
    by_request: dict[str, list[LedgerEntry]] = {}
    for e in entries:
        if e.request_id and e.purpose is None:
            by_request.setdefault(e.request_id, []).append(e)
    rows: list[tuple[str, str, dict[str, float], dict[str, float], str]] = []  # id, text, quality, cost, signal
    skipped: dict[str, int] = {}
    newest: datetime | None = None
    done_calls: set[str] = set()

    def skip(why: str) -> None:
        skipped[why] = skipped.get(why, 0) + 1

    def seen(at: datetime) -> None:
        nonlocal newest
        newest = at if newest is None or at > newest else newest

    for p in pairs:
        if p.stage != DRAFT_STAGE:
            continue
        if p.base_score is None or p.shadow_score is None:
            skip("unjudged shadow pairs")
            continue
        base = by_call.get(p.base_call_id)
        text = request_text(base) if base is not None else None
        if text is None:
            skip("without prompt text" if base is not None else "shadow pairs whose call is not in the window")
            continue
        rows.append((p.shadow_id, text, {p.base_tier: p.base_score / 10, p.shadow_tier: p.shadow_score / 10},
                     {p.base_tier: p.base_cost_usd, p.shadow_tier: p.shadow_cost_usd}, "shadow"))
        done_calls.add(p.base_call_id)
        seen(p.started_at)

    for calls in by_request.values():
        drafts = [e for e in calls if e.stage == DRAFT_STAGE and e.outcome == "ok" and e.route is not None]
        if len(drafts) != 1 or drafts[0].call_id in done_calls:
            continue
        draft = drafts[0]
        escalated = any(e.escalated for e in calls if e.stage != DRAFT_STAGE)
        judged = any(e.stage == "judge" and e.outcome == "ok" for e in calls)
        if not escalated and not (judged and draft.route in ROUTES_WITH_JUDGE):
            continue  # neither verdict: the draft shipped unjudged, or the request failed
        text = request_text(draft)
        if text is None:
            skip("without prompt text")
            continue
        signal = "escalation" if escalated else "judge"
        rows.append((draft.call_id, text, {draft.tier: 0.0 if escalated else 1.0}, {draft.tier: draft.cost_usd},
                     signal))
        seen(draft.started_at)

    for n, row in enumerate(eval_rows):
        text = str(row.get("prompt") or "").strip()
        tier = str(row.get("tier") or row.get("model") or "")
        if not text or tier not in tier_order:
            skip("eval rows without a prompt or a known tier")
            continue
        key = f"eval:{row.get('prompt_id', n)}"
        cost = row.get("cost_usd")
        rows.append((key, text, {tier: float(row["quality"])},
                     {tier: float(cost)} if cost not in (None, "") else {}, "eval"))

    rows = _merge_eval(rows)
    tiers = [t for t in tier_order if any(t in q for _, _, q, _, _ in rows)]
    if not rows:
        hint = ""
        if skipped.get("without prompt text"):
            hint = (" — the ledger keeps only prompt hashes; set [ledger] store_prompts = true to learn from "
                    "traffic")
        raise EvalError(f"{source}: no labelled requests to learn from{hint}")
    if len(tiers) < 2:
        raise EvalError(f"{source}: labels mention only tier {tiers[0]!r}; a router needs two tiers (turn on "
                        "[shadow] for the draft stage to label the tier above)")
    quality = np.full((len(rows), len(tiers)), np.nan)
    cost = np.full((len(rows), len(tiers)), np.nan)
    for i, (_, _, q, c, _) in enumerate(rows):
        for t, v in q.items():
            if t in tiers:
                quality[i, tiers.index(t)] = v
        for t, v in c.items():
            if t in tiers:
                cost[i, tiers.index(t)] = v
    labels = Labels(tuple(r[1] for r in rows), tuple(tiers), quality, cost, tuple(r[4] for r in rows),
                    tuple(r[0] for r in rows), source)
    counts = {s: 0 for s in SIGNALS} | labels.counts()
    return LedgerLabels(labels, counts, skipped, newest)


def _merge_eval(rows: list[tuple[str, str, dict[str, float], dict[str, float], str]]):
    """Eval rows of one case (one per tier) become one row with a cell per tier."""
    out = [r for r in rows if r[4] != "eval"]
    merged: dict[tuple[str, str], tuple[str, str, dict[str, float], dict[str, float], str]] = {}
    for key, text, q, c, _ in (r for r in rows if r[4] == "eval"):
        case = key.rsplit(":", 1)[0] if key.count(":") > 1 else key
        have = merged.setdefault((case, text), (case, text, {}, {}, "eval"))
        have[2].update(q)
        have[3].update(c)
    return out + list(merged.values())
