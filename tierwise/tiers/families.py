"""The catalogue derived from genai-prices: every Gemini model it prices, with what its family accepts.

genai-prices knows which Google models exist, their prices and the names that reach them (`gemini-flash-latest`);
it cannot know what a model accepts (thinking levels, sampling rules, limits) or which tier it belongs to. The
registry's `[families]` say that per model family (a regular expression over model ids, with the Google page it
comes from), and `[models."ID"]` entries add or correct single models. So a model added to genai-prices is listed,
priced and usable by name after a package upgrade, with no code change. Pure functions over the registry document.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from typing import Any

from . import list_prices

# Keys of a family table that are about the family itself, not copied into its models.
FAMILY_ONLY = ("match", "source")


def family_of(model_id: str, families: Mapping[str, Any]) -> str | None:
    """The one family whose `match` matches `model_id` in full (None: no family). Two matching families are a
    registry error, raised by `with_families`."""
    found = matching_families(model_id, families)
    return found[0] if found else None


def matching_families(model_id: str, families: Mapping[str, Any]) -> list[str]:
    out = []
    for name, family in families.items():
        pattern = family.get("match") if isinstance(family, Mapping) else None
        if isinstance(pattern, str) and _compiled(pattern).fullmatch(model_id):
            out.append(name)
    return out


def _compiled(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        from tierwise.errors import RegistryError

        raise RegistryError(f"families: match {pattern!r} is not a valid regular expression: {exc}") from None


def with_families(document: Mapping[str, Any]) -> dict[str, Any]:
    """The registry document with every genai-prices Gemini model its families cover added to [models], each
    model filled with its family's keys under its own, and aliases in [tiers] and fallbacks resolved."""
    families = document.get("families")
    models = document.get("models")
    if not isinstance(families, Mapping) or not isinstance(models, Mapping):
        return dict(document)
    tiers: Mapping[str, Any] = document["tiers"] if isinstance(document.get("tiers"), Mapping) else {}
    listed = [m for m in list_prices.google_models() if family_of(m, families) is not None]
    filled: dict[str, Any] = {}
    for model_id in [*listed, *(m for m in models if m not in listed)]:
        own = models.get(model_id, {})
        if not isinstance(own, Mapping):
            filled[model_id] = own
            continue
        found = matching_families(model_id, families)
        if len(found) > 1:
            from tierwise.errors import RegistryError

            raise RegistryError(f"families: {model_id} matches {' and '.join(found)}; make their `match` disjoint")
        base = {k: v for k, v in families[found[0]].items() if k not in FAMILY_ONLY} if found else {}
        if base.get("tier") is not None and base["tier"] not in tiers:
            base.pop("tier")  # a registry with other tier names: the model is listed without a tier
        filled[model_id] = {**base, **({"family": found[0]} if found else {}), **own}
    out = {**document, "models": filled}
    return resolve_aliases(out)


def resolve_aliases(document: dict[str, Any]) -> dict[str, Any]:
    """Names that genai-prices maps to a catalogued model (`gemini-flash-latest` → gemini-3.8-flash) rewritten to
    that model wherever the registry names a model; each rewrite is kept in `aliases` (shown by `tierwise tiers`).
    tierwise then calls the model it prices, so a bill never follows an alias Google moved before genai-prices."""
    models = document.get("models") or {}
    aliases: dict[str, str] = dict(document.get("aliases") or {})

    def resolve(name: Any) -> Any:
        if not isinstance(name, str) or name in models:
            return name
        target = aliases.get(name) or list_prices.canonical(name)
        if target is not None and target in models:
            aliases[name] = target
            return target
        return name

    tiers = {name: ({**tier, "model": resolve(tier.get("model"))} if isinstance(tier, Mapping) else tier)
             for name, tier in (document.get("tiers") or {}).items()}
    stages = {}
    for name, stage in (document.get("stages") or {}).items():
        if isinstance(stage, Mapping) and isinstance(stage.get("fallbacks"), list):
            stage = {**stage, "fallbacks": [resolve(t) if t not in tiers else t for t in stage["fallbacks"]]}
        stages[name] = stage
    out = {**document, "tiers": tiers, "stages": stages}
    if aliases:
        out["aliases"] = aliases
    return out


def closest(name: str, known: Iterable[str], n: int = 3) -> str:
    """", closest known: a, b" for an unknown model name (empty when nothing is close)."""
    found = difflib.get_close_matches(name, list(known), n=n, cutoff=0.6)
    return f"; closest known: {', '.join(found)}" if found else ""
