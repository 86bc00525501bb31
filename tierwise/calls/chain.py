"""The models a stage may use, in order: its tier's model, then its fallback chain from the registry."""

from __future__ import annotations

from tierwise.tiers import Registry, StageModel


def candidates(registry: Registry, primary: StageModel) -> list[StageModel]:
    """Primary first, then each fallback (a tier → its model; a model id → itself), without repeats.

    A critical stage keeps only candidates of its own tier or higher: it may wait, retry or go up, never down.
    The registry refuses such chains at load; this guards overrides made at run time (e.g. the spend guard).
    """
    cache: dict[tuple[str, str, str], list[StageModel]] = registry.__dict__.setdefault("_chains", {})  # immutable
    key = (primary.stage, primary.model_id, primary.tier)
    if key not in cache:
        cache[key] = _candidates(registry, primary)
    return cache[key]


def _candidates(registry: Registry, primary: StageModel) -> list[StageModel]:
    data = registry.data
    spec = data.stages[primary.stage]
    out, seen = [primary], {primary.model_id}
    for target in spec.fallbacks:
        tier = data.tier_of(target)
        model_id = data.tiers[target].model if target in data.tiers else target
        if model_id in seen:
            continue
        if spec.critical and data.rank(tier) < data.rank(primary.tier):
            continue
        seen.add(model_id)
        out.append(StageModel(primary.stage, spec, tier, model_id, data.models[model_id]))
    return out
