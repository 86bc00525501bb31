"""The tier registry: tier → model, prices, context window, shutdown date; stage → tier and settings."""

from .pricing import Usage, price
from .registry import ModelShutdownWarning, Registry, StageModel, build_registry, load_registry
from .schema import ModelSpec, Price, RegistryData, StageSpec

__all__ = [
    "ModelShutdownWarning",
    "ModelSpec",
    "Price",
    "Registry",
    "RegistryData",
    "StageModel",
    "StageSpec",
    "Usage",
    "build_registry",
    "load_registry",
    "price",
]
