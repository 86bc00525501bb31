"""What the emulator tests share: the API key header and the models they name besides the registry's."""

from __future__ import annotations

from tierwise.emulator import ModelLimits

KEY = {"x-goog-api-key": "emulator"}  # the strict emulator, like Google, refuses calls without credentials
# Models the tests name besides the registry's: the strict emulator serves only catalogued models.
TEST_MODELS = {
    "gemini-2.5-flash": ModelLimits("gemini-2.5-flash", thinking_budget_max=24_576),
    "gemini-2.5-pro": ModelLimits("gemini-2.5-pro", thinking_budget_min=128, thinking_budget_max=32_768),
    "gemini-3-flash-preview": ModelLimits(
        "gemini-3-flash-preview", thinking_levels=("minimal", "low", "medium", "high")
    ),
    "gemini-3.1-pro": ModelLimits("gemini-3.1-pro", thinking_levels=("low", "medium", "high")),
    **{name: ModelLimits(name) for name in ("m", "gemini-x", "other")},
}
