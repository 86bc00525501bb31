"""What `tierwise router train --from-ledger` and `tierwise calibrate --from-ledger` read: the ledger's labels
(routing_labels.py) and the router in use, which the new one is fine-tuned from and compared with.

Handed to the routing CLI by tierwise/cli.py (routing sits below the ledger in the layers, so it cannot import it).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tierwise.errors import EvalError


def current_router(reg: Any) -> tuple[Any, str]:
    """(router, name): the registry's `[router] model_path` when set, else the packaged pre-router."""
    from tierwise.routing.learned import load_router
    from tierwise.routing.packaged import packaged_router

    path = reg.data.router.model_path
    if path:
        return load_router(reg.path(path)), str(reg.path(path))
    return packaged_router(), "packaged"


def ledger_labels_for(*, since: str, ledger: str | None, evals: Sequence[Path], registry: str | None) -> dict[str, Any]:
    """Labels since `since` from the ledger (and eval tables), the current router, and what to print about them."""
    from tierwise.errors import TierwiseError

    try:
        return _labels_for(since, ledger, evals, registry)
    except EvalError:
        raise
    except TierwiseError as exc:  # a bad registry, ledger URL or --since: one line, in the user's terms
        raise EvalError(str(exc)) from None


def _labels_for(since: str, ledger: str | None, evals: Sequence[Path], registry: str | None) -> dict[str, Any]:
    from tierwise.ledger import LedgerError
    from tierwise.ledger.since import parse_since
    from tierwise.ledger.url import open_ledger, resolve_url
    from tierwise.tiers import build_registry

    from .outcomes import read_eval_rows
    from .routing_labels import ledger_labels

    start = parse_since(since, option="--since").replace(microsecond=0)
    reg = build_registry(registry)
    rows = read_eval_rows(evals)
    url = resolve_url(ledger, reg)
    try:
        with open_ledger(url, create=False) as store:
            entries, pairs, where = store.entries(since=start), store.shadow_pairs(since=start), store.url
    except LedgerError as exc:
        if not rows:
            raise EvalError(str(exc)) from None
        entries, pairs, where = [], [], url
    found = ledger_labels(entries, pairs, reg.data.tier_order, rows, source=where)
    router, name = current_router(reg)
    return {"labels": found.labels, "counts": found.counts, "skipped": found.skipped, "summary": found.summary(),
            "newest": None if found.newest is None else found.newest.isoformat(), "where": where,
            "current": router, "current_name": name}


def retrain_advice(reg: Any, entries: Sequence[Any], pairs: Sequence[Any]) -> dict[str, Any] | None:
    """How many labels came in since the router in use was trained, and whether a retrain should pay
    (`[router] retrain_labels`); None when the router in use cannot be read."""
    from datetime import datetime

    from tierwise.routing.errors import OutcomeError

    from .routing_labels import ledger_labels

    try:
        router, name = current_router(reg)
    except (OutcomeError, OSError, ValueError):
        return None
    until = router.meta.get("labels_until")
    if until:
        after = datetime.fromisoformat(until)
        entries = [e for e in entries if e.started_at > after]
        pairs = [p for p in pairs if p.started_at > after]
    try:
        found = ledger_labels(entries, pairs, reg.data.tier_order)
        new, counts = found.labels.n, found.counts
    except EvalError:  # no usable label since then
        new, counts = 0, {}
    need = reg.data.router.retrain_labels
    return {"router": name, "labels_until": until, "new_labels": new, "signals": counts,
            "retrain_labels": need, "retrain": new >= need}
