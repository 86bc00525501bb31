"""The tier registry: tier → model, prices, context window, shutdown date; stage → tier and settings; and the
economics priced from it (what one direct Pro call would have cost)."""

from .capabilities import CallSettings, check_call, settings_for
from .economics import DirectPro, LedgerSource, Thinking, direct_pro, medians_of, totals
from .pricing import Cost, Usage, price, price_parts, served_tier
from .registry import ModelShutdownWarning, Registry, StageModel, build_registry, load_registry
from .schema import ModelSpec, Price, RegistryData, StageSpec

__all__ = [
    "CallSettings",
    "Cost",
    "DirectPro",
    "LedgerSource",
    "ModelShutdownWarning",
    "ModelSpec",
    "Price",
    "Registry",
    "RegistryData",
    "StageModel",
    "StageSpec",
    "Thinking",
    "Usage",
    "build_registry",
    "check_call",
    "direct_pro",
    "load_registry",
    "medians_of",
    "price",
    "price_parts",
    "served_tier",
    "settings_for",
    "totals",
]
