"""The tier registry: tier → model, prices, context window, shutdown date; stage → tier and settings."""

from .capabilities import CallSettings, check_call, settings_for
from .pricing import Usage, price, served_tier
from .registry import ModelShutdownWarning, Registry, StageModel, build_registry, load_registry
from .schema import ModelSpec, Price, RegistryData, StageSpec

__all__ = [
    "CallSettings",
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
    "served_tier",
    "settings_for",
]
