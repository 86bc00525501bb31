"""The registry at run time: stage → model resolution, shutdown checks, cached loading."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import time
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from tierwise.errors import InvalidArgumentError, RegistryError, UnknownStageError
from tierwise.inputs import check_path, named_arguments

from . import families, list_prices, loader
from .capabilities import CallSettings, settings_for
from .pricing import today as utc_today
from .schema import ModelSpec, RegistryData, StageSpec

T = TypeVar("T")

SHUTDOWN_WARNING_DAYS = 30


class ModelShutdownWarning(UserWarning):
    """A model in use shuts down within 30 days."""


@dataclass(frozen=True)
class StageModel:
    """What one stage runs on: its settings and the model its tier points to."""

    stage: str
    spec: StageSpec
    tier: str
    model_id: str
    model: ModelSpec


class Registry:
    """Validated registry data plus the lookups the call path needs."""

    def __init__(self, data: RegistryData, origin: str = "packaged", base_dir: Path | None = None) -> None:
        self.data = data
        self.origin = origin
        self.base_dir = base_dir or Path.cwd()  # relative paths in the user's file are read from its folder
        self._settings: dict[tuple[str, str, str], CallSettings] = {}  # the data is immutable once loaded

    def path(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def stages(self) -> Mapping[str, StageSpec]:
        return self.data.stages

    @property
    def top_tier(self) -> str:
        return self.data.tier_order[-1]

    @property
    def top_model(self) -> ModelSpec:
        """The model the all-Pro counterfactual is priced at."""
        return self.data.models[self.data.tiers[self.top_tier].model]

    def stage_name(self, name: str) -> str:
        """The stage's name now: a former name (`[renamed_stages]`, e.g. in an old ledger) → the new one."""
        return self.data.renamed_stages.get(name, name)

    def current_names(self, items: Iterable[T]) -> list[T]:
        """Stored records (ledger entries, shadow pairs: frozen dataclasses with a `stage`) under their stage's name
        now, so rows written before a rename count with the stage they belong to."""
        renamed = self.data.renamed_stages
        return [dataclasses.replace(item, stage=renamed[stage])  # type: ignore[type-var]
                if (stage := getattr(item, "stage", None)) in renamed else item for item in items]

    def stage(self, name: str, *, task_type: str | None = None, tier: str | None = None) -> StageModel:
        """The stage on `tier` if given, else on its task type's tier (`[task_types.T.stages.S]`), else its own.
        A former name (`[renamed_stages]`) answers for the stage it became."""
        if isinstance(name, str):
            name = self.stage_name(name)
        spec = self.data.stages.get(name) if isinstance(name, str) else None
        if spec is None:
            known = ", ".join(sorted(self.data.stages))
            raise UnknownStageError(f"unknown stage {name!r}; the registry declares: {known}")
        if tier is not None and tier not in self.data.tiers:
            raise RegistryError(f"unknown tier {tier!r} for stage {name!r} (known: {self.data.tier_order})")
        return self.on_tier(name, tier or self.tier_for(name, task_type))

    def tier_for(self, stage: str, task_type: str | None = None) -> str:
        """The tier `stage` runs on for `task_type`: its task-type override if the registry has one."""
        task = self.data.task_types.get(task_type) if task_type else None
        override = task.stages.get(stage) if task is not None else None
        return override.tier if override is not None else self.data.stages[stage].tier

    def on_tier(self, stage: str, tier: str) -> StageModel:
        """The stage's settings, run on `tier`'s model (used for counterfactuals and downgrades)."""
        model_id = self.data.tiers[tier].model
        return StageModel(stage, self.data.stages[stage], tier, model_id, self.data.models[model_id])

    def settings_for(self, route: StageModel, service_tier: str = "standard") -> CallSettings:
        """The stage's settings as the model `route` runs on accepts them (tiers/capabilities.py); computed once
        per (stage, model, service tier)."""
        key = (route.stage, route.model_id, service_tier)
        found = self._settings.get(key)
        if found is None:
            found = self._settings[key] = settings_for(route.model, route.spec, service_tier,
                                                       level_budgets=self.data.thinking.level_budgets)
        return found

    def model(self, model_id: str) -> ModelSpec:
        """A catalogued model by id or alias; an unknown name is a RegistryError naming the closest known ones."""
        found = self.data.models.get(self.data.aliases.get(model_id, model_id))
        if found is None:
            raise RegistryError(self.data.unknown_model(model_id))
        return found

    def models_in_use(self) -> dict[str, str]:
        """model id → the key that puts it in use (a tier, or a stage's fallback chain)."""
        used = {tier.model: f"tiers.{name}.model" for name, tier in self.data.tiers.items()}
        for name, stage in self.data.stages.items():
            for i, target in enumerate(stage.fallbacks):
                if target in self.data.models:
                    used.setdefault(target, f"stages.{name}.fallbacks[{i}]")
        return used

    def check_shutdowns(self, today: date) -> list[str]:
        """Refuse models past their shutdown date; return (and warn about) those within 30 days of it."""
        refused, soon = [], []
        for model_id, key in self.models_in_use().items():
            spec = self.data.models[model_id]
            if spec.shutdown is None:
                continue
            instead = f"; switch to {spec.replacement}" if spec.replacement else ""
            if spec.shutdown <= today:
                refused.append(f"{key}: {model_id} was shut down on {spec.shutdown}{instead}")
            elif spec.shutdown - today <= timedelta(days=SHUTDOWN_WARNING_DAYS):
                days = (spec.shutdown - today).days
                soon.append(f"{key}: {model_id} shuts down on {spec.shutdown} (in {days} days){instead}")
        if refused:
            raise RegistryError(f"invalid registry ({self.origin}): " + "; ".join(refused))
        for message in soon:
            warnings.warn(message, ModelShutdownWarning, stacklevel=3)
        return soon


@named_arguments
def build_registry(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    today: date | None = None,
) -> Registry:
    """Packaged file ← user file ← TIERWISE__* environment ← `overrides`, validated and date-checked."""
    _check_arguments(path, env, overrides, today)
    env = os.environ if env is None else env
    document = loader.packaged_document()
    renamed = document.get("renamed_stages") or {}
    origins = ["packaged"]
    user = loader.user_file(path, env)
    edits: list[tuple[Mapping[str, Any], str]] = []  # the user's documents, checked for unknown models below
    if user is not None:
        own = loader.read_user_file(user)
        edits.append((own, f"packaged + {user}"))
        document = loader.deep_merge(document, loader.migrate_old_keys(own, renamed))
        origins.append(str(user))
    from_env = loader.env_overrides(env)
    if from_env:
        edits.append((from_env, "environment"))
        document = loader.deep_merge(document, loader.migrate_old_keys(from_env, renamed))
        origins.append("environment")
    if overrides:
        edits.append((overrides, "overrides"))
        document = loader.deep_merge(document, loader.migrate_old_keys(overrides, renamed))
        origins.append("overrides")
    origin = " + ".join(origins)
    document = families.with_families(document)
    for edit, where in edits:  # a price or setting for a model no family or entry declares: a typo, said so
        loader.check_new_models(edit, document.get("models") or {}, where)
    document = list_prices.with_list_prices(document)
    registry = Registry(loader.validate(document, origin), origin, user.resolve().parent if user else None)
    registry.check_shutdowns(today or utc_today())
    return registry


def _check_arguments(path: Any, env: Any, overrides: Any, today: Any) -> None:
    """The builder's arguments, refused by name (not a TypeError from deep inside the merge)."""
    if path is not None:
        check_path(path, "path")
    for name, value in (("env", env), ("overrides", overrides)):
        if value is not None and not isinstance(value, Mapping):
            raise InvalidArgumentError(f"{name} must be a dict (mapping), got {type(value).__name__}")
    if today is not None and (not isinstance(today, date) or isinstance(today, datetime)):
        raise InvalidArgumentError(f"today must be a datetime.date, got {type(today).__name__}")


RECHECK_SECONDS = 1.0


class RegistrySource:
    """A registry that follows its files: the user file (`path`, else $TIERWISE_REGISTRY or ./tierwise.toml) and
    TIERWISE__* variables in `env`, re-read when they change (checked at most once a second: checking on every
    call cost more than the rest of the call path together). Owned by a Runtime; `Runtime(registry=Registry)`
    skips it and keeps one registry for good."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self.env = os.environ if env is None else env
        self._cache: dict[str | None, tuple[float, tuple[Any, ...], Registry]] = {}

    def load(self, path: str | os.PathLike[str] | None = None) -> Registry:
        slot = None if path is None else str(path)
        cached = self._cache.get(slot)
        if cached is not None and time.monotonic() - cached[0] < RECHECK_SECONDS:  # `fresh`, inlined (every call)
            return cached[2]
        if cached is not None and on_event_loop():
            # Never touch the file system on an event loop (`langgraph dev` refuses it, and it stalls every
            # request): the async call path re-checks in a worker thread (Runtime.awarm) at most once a second.
            return cached[2]
        user = loader.user_file(path, self.env)
        env_items = tuple(sorted((k, v) for k, v in self.env.items() if k.startswith(loader.ENV_PREFIX)))
        key = (os.getcwd(), str(user) if user else None, _mtime(user) if user else None, env_items, utc_today())
        if cached is not None and cached[1] == key:
            registry = cached[2]
        else:
            registry = build_registry(path, env=self.env)
            if len(self._cache) > 16:  # many registries in one runtime is unusual; keep memory flat
                self._cache.clear()
        self._cache[slot] = (time.monotonic(), key, registry)
        return registry

    def fresh(self, path: str | os.PathLike[str] | None = None) -> Registry | None:
        """The cached registry if it was checked within the last second, without touching the file system (so it
        is safe on an event loop); None when `load` has to look again."""
        cached = self._cache.get(None if path is None else str(path))
        if cached is not None and time.monotonic() - cached[0] < RECHECK_SECONDS:
            return cached[2]
        return None


@named_arguments
def load_registry(path: str | os.PathLike[str] | None = None) -> Registry:
    """The registry from the packaged file, the user file (`path`, else $TIERWISE_REGISTRY or ./tierwise.toml)
    and TIERWISE__* variables, built now (uncached: a Runtime keeps the cached one)."""
    return build_registry(path)


def on_event_loop() -> bool:
    """True inside a running asyncio event loop, where no file or database work may block."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None
