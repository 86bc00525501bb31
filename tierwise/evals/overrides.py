"""`tierwise suggest`'s output: a registry override file of the suggested moves, for a person to review.

Never applied: the file is written next to (never over) the registry in force, and checked first — merged over
that registry, it must validate, so `tierwise tiers --registry FILE` shows exactly what accepting it would do. A
task type's move is `[task_types.T.stages.S] tier = ...`; traffic recorded without a task type can only move the
stage itself (`[stages.S] tier = ...`), which also moves every task type without its own entry — said in the file.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from datetime import UTC, datetime
from pathlib import Path

from tierwise.errors import EvalError
from tierwise.money import usd
from tierwise.tiers import build_registry
from tierwise.tiers.loader import LOCAL_FILE, user_file

from .suggestions import Suggestion

DEFAULT_FILE = "tierwise.suggested.toml"
BARE = re.compile(r"[A-Za-z0-9_-]+")


def override_text(suggestions: list[Suggestion], *, window: str, ledger: str = "") -> str:
    moves = [s for s in suggestions if s.moves]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Written by `tierwise suggest` on {now} (window {window}{', ledger ' + ledger if ledger else ''}).",
        "# Suggested tier moves, for review: nothing here is applied. Try them with",
        "# `tierwise tiers --registry THIS_FILE`; merge the tables you accept into your registry file.",
    ]
    for s in moves:
        q = s.quality_change
        lines += ["", f"# {s.stage} × {s.task_type or '(no task type)'}: {s.current} → {s.target} ({s.action})"]
        if q is not None:
            lines.append(f"#   quality {q.mean:+.2f} [{q.lo:+.2f}, {q.hi:+.2f}] ({q.level:.0%} CI, n={q.n}); "
                         f"confidence {s.confidence:.2f}")
        if s.usd_change is not None:
            per_call = usd(s.usd_change_per_call or 0.0)
            lines.append(f"#   cost {_signed(s.usd_change)} over {window} ({s.calls} calls; {per_call} per call)")
        if s.task_type is None:
            lines.append("#   no task type: this moves the stage for every task type without its own entry")
            lines += [f"[stages.{_key(s.stage)}]", f'tier = "{s.target}"']
        else:
            lines += [f"[task_types.{_key(s.task_type)}.stages.{_key(s.stage)}]", f'tier = "{s.target}"']
    return "\n".join(lines) + "\n"


def write_overrides(text: str, path: str | Path, registry_path: str | None = None) -> Path:
    """Check `text` against the registry in force, then write it to `path` (never over that registry)."""
    path = Path(path)
    guarded = {Path(LOCAL_FILE).resolve()}
    active = user_file(registry_path, os.environ)
    if active is not None:
        guarded.add(active.resolve())
    if path.resolve() in guarded:
        raise EvalError(f"--out {path}: that is the registry in force; suggestions are written beside it, "
                        f"never into it (e.g. --out {DEFAULT_FILE})")
    try:
        build_registry(registry_path, overrides=tomllib.loads(text))
    except Exception as exc:  # noqa: BLE001 - an invalid suggestion is a bug; say what it was, write nothing
        raise EvalError(f"the suggested overrides do not validate, nothing written: {exc}") from None
    from tierwise.outputs import write_atomic

    return write_atomic(path, text, option="--out")


def _key(name: str) -> str:
    return name if BARE.fullmatch(name) else json.dumps(name, ensure_ascii=False)


def _signed(amount: float) -> str:
    return ("+" if amount >= 0 else "-") + usd(abs(amount))
