"""Read the packaged registry, merge the user's file and environment overrides over it, validate."""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tierwise import strict
from tierwise.errors import InputFileError, RegistryError, RegistryFileError
from tierwise.strict import loads_toml, read_toml

from .schema import RegistryData

ENV_FILE = "TIERWISE_REGISTRY"
ENV_PREFIX = "TIERWISE__"
LOCAL_FILE = "tierwise.toml"


def packaged_document() -> dict[str, Any]:
    text = resources.files("tierwise.tiers").joinpath("registry.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def user_file(path: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path | None:
    """The user's override file: an explicit path, else $TIERWISE_REGISTRY, else ./tierwise.toml if present."""
    if path is not None:
        return Path(path)
    if env.get(ENV_FILE):
        return Path(env[ENV_FILE])
    local = Path(LOCAL_FILE)
    return local if local.is_file() else None


def read_user_file(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path, what="registry file")
    except InputFileError as exc:
        raise RegistryFileError(exc.problem, source=f"registry file {path}", line=exc.line, field=exc.field) \
            from None


def check_new_models(document: Mapping[str, Any], known: Mapping[str, Any], origin: str) -> None:
    """A `[models."X"]` entry for a model the packaged catalogue lacks must declare it (tier, context_window):
    one with only prices is a price override for a model id that was mistyped or is unknown, and says so."""
    models = document.get("models")
    if not isinstance(models, Mapping):
        return
    for model_id, spec in models.items():
        filled = known.get(model_id)
        if not isinstance(spec, Mapping) or "tier" in spec or (isinstance(filled, Mapping) and "tier" in filled):
            continue
        what = "a price override for" if set(spec) <= {"prices"} else "settings for"
        catalogued = [m for m, s in known.items() if isinstance(s, Mapping) and "tier" in s]
        close = difflib.get_close_matches(str(model_id), catalogued, n=3)
        hint = f"did you mean {' or '.join(map(repr, close))}? " if close else ""
        raise RegistryError(
            f"invalid registry ({origin}): models.{model_id}: {what} the unknown model {model_id!r}; {hint}check "
            "the id (`tierwise tiers` lists the catalogue), or add the model with tier and context_window")


def env_overrides(env: Mapping[str, str]) -> dict[str, Any]:
    """TIERWISE__STAGES__DRAFT__TIER=flash → {"stages": {"draft": {"tier": "flash"}}}."""
    out: dict[str, Any] = {}
    for name, raw in env.items():
        if not name.startswith(ENV_PREFIX):
            continue
        keys = [k.lower() for k in name[len(ENV_PREFIX) :].split("__") if k]
        if not keys:
            continue
        node = out
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = _literal(raw, name)
    return out


def _literal(raw: str, name: str) -> Any:
    """A TOML literal (3, 0.5, true, "x", [..]) with the file's limits (no nan/inf, bounded); else the text."""
    try:
        return loads_toml(f"v = {raw}")["v"]
    except InputFileError as exc:
        if exc.problem.startswith("not valid TOML"):
            return raw  # plain text: TIERWISE__STAGES__DRAFT__TIER=flash
        raise RegistryFileError(exc.problem, source=f"environment variable {name}") from None


def migrate_old_keys(document: Mapping[str, Any], renamed: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Older spellings in a user's document, rewritten before it is merged over the packaged one (whose newer
    key would otherwise contradict it): `models.X.fixed_sampling = true` → `sampling = false`; a renamed stage's
    old name (`renamed`: the packaged `[renamed_stages]`) → its new one, wherever the document names a stage."""
    document = _renamed_stages(document, renamed or {})
    models = document.get("models")
    if not isinstance(models, Mapping):
        return dict(document)
    migrated = {}
    for model_id, spec in models.items():
        if isinstance(spec, Mapping) and isinstance(spec.get("fixed_sampling"), bool) and "sampling" not in spec:
            spec = {k: v for k, v in spec.items() if k != "fixed_sampling"} | {"sampling": not spec["fixed_sampling"]}
        migrated[model_id] = spec
    return {**document, "models": migrated}


def _renamed_stages(document: Mapping[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """`[stages.OLD]`, `[task_types.T.stages.OLD]`, `[shadow.stages.OLD]` and `[economics] overhead_stages` under
    a stage's new name. Settings under both names merge, the new name's winning."""
    def keyed(table: Any) -> Any:
        if not isinstance(table, Mapping) or not any(old in table for old in renamed):
            return table
        out = {key: value for key, value in table.items() if key not in renamed}
        for old, new in renamed.items():
            if old not in table:
                continue
            if isinstance(table[old], Mapping) and isinstance(out.get(new), Mapping):
                out[new] = deep_merge(dict(table[old]), out[new])
            else:
                out.setdefault(new, table[old])
        return out

    doc = dict(document)
    if not renamed:
        return doc
    if "stages" in doc:
        doc["stages"] = keyed(doc["stages"])
    if isinstance(doc.get("task_types"), Mapping):
        doc["task_types"] = {name: {**spec, "stages": keyed(spec["stages"])} if isinstance(spec, Mapping) and
                             "stages" in spec else spec for name, spec in doc["task_types"].items()}
    if isinstance(doc.get("shadow"), Mapping) and "stages" in doc["shadow"]:
        doc["shadow"] = {**doc["shadow"], "stages": keyed(doc["shadow"]["stages"])}
    economics = doc.get("economics")
    if isinstance(economics, Mapping) and isinstance(economics.get("overhead_stages"), list):
        doc["economics"] = {**economics, "overhead_stages": [renamed.get(s, s) if isinstance(s, str) else s
                                                            for s in economics["overhead_stages"]]}
    return doc


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def validate(document: dict[str, Any], origin: str) -> RegistryData:
    try:
        return RegistryData.model_validate(document)
    except ValidationError as exc:
        raise RegistryError(f"invalid registry ({origin}): {describe(exc)}") from None


describe = strict.describe  # one line per problem, each naming its key: `stages.draft.temperature: ...`
