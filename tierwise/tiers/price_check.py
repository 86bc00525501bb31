"""`tierwise tiers --check`: registry price overrides that disagree with genai-prices.

An override is deliberate (a negotiated price, a correction), but one that silently outlives a list-price
change is how bills drift: this lists every override next to the list price in force on its effective date.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import list_prices
from .catalogue import ModelSpec, Price
from .schema import RegistryData

RATES = ("input", "output", "cached_input", "long_context_threshold", "long_input", "long_output",
         "long_cached_input", "input_audio", "cached_input_audio", "search_per_1k")


@dataclass(frozen=True)
class OverrideCheck:
    model_id: str
    price: Price
    listed: Price | None  # genai-prices' price on the override's effective date; None: genai-prices lacks it
    differences: tuple[str, ...]

    @property
    def disagrees(self) -> bool:
        return bool(self.differences)

    def describe(self) -> str:
        where = f"models.{self.model_id}.prices (effective {self.price.effective}, {self.price.source})"
        if self.listed is None:
            return f"{where}: genai-prices has no price for {self.model_id}; the registry's is the only one"
        if not self.differences:
            return f"{where}: agrees with {list_prices.source_name()}"
        return f"{where}: " + "; ".join(self.differences)


def is_override(price: Price) -> bool:
    return not price.source.startswith("genai-prices")


def check_overrides(data: RegistryData) -> list[OverrideCheck]:
    """Every registry price entry, compared with genai-prices on its effective date."""
    checks = []
    for model_id, model in data.models.items():
        listed_entries = list_prices.entries(model_id)
        listed_model = None
        if listed_entries:
            listed_model = ModelSpec(tier=model.tier, context_window=model.context_window,
                                     max_output_tokens=model.max_output_tokens,
                                     prices=[Price.model_validate(entry) for entry in listed_entries])
        for price in model.prices:
            if not is_override(price):
                continue
            listed = listed_model.price_on(price.effective) if listed_model else None
            checks.append(OverrideCheck(model_id, price, listed, _differences(price, listed)))
    return checks


def _differences(price: Price, listed: Price | None) -> tuple[str, ...]:
    if listed is None:
        return ()
    found = []
    for rate in RATES:
        ours, theirs = getattr(price, rate), getattr(listed, rate)
        if ours != theirs:
            found.append(f"{rate} {_show(ours)} ≠ genai-prices {_show(theirs)}")
    return tuple(found)


def _show(value: float | int | None) -> str:
    return "-" if value is None else f"{value:g}"
