"""The tier registry: tier → model, prices, context window, shutdown date; stage → tier and settings."""

from .capabilities import CallSettings, check_call, settings_for
from .pricing import Cost, Usage, price, price_parts, served_tier
from .registry import ModelShutdownWarning, Registry, StageModel, build_registry, load_registry
from .schema import ModelSpec, Price, RegistryData, StageSpec

__all__ = [
    "CallSettings",
    "Cost",
    "ModelShutdownWarning",
    "ModelSpec",
    "Price",
    "Registry",
    "RegistryData",
    "StageModel",
    "StageSpec",
    "Usage",
    "build_registry",
    "check_call",
    "load_registry",
    "price",
    "price_parts",
    "served_tier",
    "settings_for",
]
