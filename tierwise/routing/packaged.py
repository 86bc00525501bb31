"""The pre-router that ships with tierwise: trained on RouteLLM's GPT-4 vs Mixtral outcomes (MMLU, GSM8K and
MT-Bench, Apache-2.0), so a new install routes with no outcome data of its own and `tierwise router train
--from-ledger` has something to fine-tune. Rebuilt with `python benchmarks/routing.py --write-packaged`.

Its rungs are "cheap" and "top", matched by position to any ladder (see adapt.rung_map). What it knows is what
those benchmarks show: topic words and prompt shape of exam questions, maths word problems and chat prompts.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

FILE = "prerouter.npz"


def packaged_path() -> Path:
    return Path(str(resources.files(__package__).joinpath(FILE)))


def packaged_router():  # -> LearnedRouter (lazy import keeps `import tierwise.routing` cheap)
    """The packaged router, loaded from the wheel (a data file: npz, never pickle)."""
    from .learned import load_router

    return load_router(packaged_path())
