"""How long a real Gemini call takes, for the emulator to imitate: time to first token + output at a model's
speed. Off by default (tests want answers at once); on with `Emulator(latency=LatencyModel.published())` or
`tierwise emulator --latency`. The figures are catalogue data (latency.toml, each with its source).

`scale` shrinks every wait by the same factor so a benchmark of slow Pro calls finishes in reasonable time; a
caller divides what it measures by the same factor (benchmarks/latency.py does).
"""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class ModelLatency:
    ttft_s: float
    tokens_per_s: float

    def seconds(self, output_tokens: int) -> float:
        return self.ttft_s + max(output_tokens, 0) / self.tokens_per_s


class LatencyModel:
    """Per-model (ids or globs) latency; `default` for the rest."""

    def __init__(self, models: Mapping[str, ModelLatency], default: ModelLatency, *, scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError(f"latency scale must be > 0, got {scale}")
        for name, spec in {**models, "default": default}.items():
            if spec.ttft_s < 0 or spec.tokens_per_s <= 0:
                raise ValueError(f"latency of {name}: ttft_s must be >= 0 and tokens_per_s > 0")
        self.models, self.default, self.scale = dict(models), default, scale

    @classmethod
    def published(cls, scale: float = 1.0) -> LatencyModel:
        """The packaged figures (tierwise/emulator/latency.toml)."""
        data = tomllib.loads(resources.files("tierwise.emulator").joinpath("latency.toml").read_text("utf-8"))
        models = {name: ModelLatency(**spec) for name, spec in data.get("models", {}).items()}
        return cls(models, ModelLatency(**data["default"]), scale=scale)

    def for_model(self, model: str) -> ModelLatency:
        if model in self.models:
            return self.models[model]
        return next((spec for pattern, spec in self.models.items() if fnmatch.fnmatchcase(model, pattern)),
                    self.default)

    def seconds(self, model: str, output_tokens: int) -> float:
        """The wait before a non-streamed answer of `output_tokens` visible tokens is complete (scaled)."""
        return self.for_model(model).seconds(output_tokens) * self.scale

    def first_token_seconds(self, model: str) -> float:
        return self.for_model(model).ttft_s * self.scale

    def seconds_per_token(self, model: str) -> float:
        return self.scale / self.for_model(model).tokens_per_s
