"""Which input a batch output belongs to: a sidecar file, OUT.batch.json, written before the first result line.

It holds a digest of every item the batch was started with (id → hash of its input, task_type and request_id).
`--resume` goes on only when the output has this sidecar and every item with a result still has the same
digest: an unrelated file (notes, a config) named as --out is refused instead of being cut or appended to, and a
resume with another input (or an edited one) is refused instead of keeping the old answers for new lines.
Appending new items to the input and resuming stays fine: they are added to the sidecar before they run.

A sidecar, not a header line in the output: the output stays one result per line, as readers expect. It is
replaced atomically and always before any result line it vouches for, so a kill -9 at any point leaves a
sidecar that covers every line in the output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tierwise.outputs import write_atomic

from .items import BatchInputError, Item

KIND = "tierwise-batch"
VERSION = 1


def sidecar_path(out: str | Path) -> Path:
    out = Path(out)
    return out.with_name(out.name + ".batch.json")


def item_digest(item: Item) -> str:
    """What decides an item's answer, hashed: an edit to any of it makes the stored result another item's."""
    parts: list[object] = [item.input, item.task_type, item.request_id]
    if item.labels:  # only then: batches journaled before labels existed keep their digests
        parts.append(item.labels)
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def claim_output(out: str | Path, input_path: str | Path, items: Sequence[Item], *, resume: bool,
                 overwrite: bool) -> None:
    """Before any model call: refuse an --out that is not this command's own output for this input, then record
    this input's items beside it. BatchInputError says what is wrong and what to do."""
    out = Path(out)
    has_results = out.exists() and out.stat().st_size > 0
    recorded = _read(out) if has_results else None
    if has_results and not (resume or overwrite):
        raise BatchInputError(
            f"{out} already has results: add --resume to finish that batch (items with a line there are skipped), "
            "or --overwrite to start over"
        )
    known: dict[str, str] = {}
    if has_results and resume:
        if recorded is None:
            raise BatchInputError(
                f"--out {out} was not written by `tierwise batch` (there is no {sidecar_path(out).name} beside "
                "it), so --resume would change a file that is not a batch output; choose another --out"
            )
        _check_same_items(recorded, items, out, input_path)
        known = recorded
    elif has_results and overwrite and recorded is None and not _looks_like_results(out):
        raise BatchInputError(
            f"--out {out} is not a tierwise batch output (its first line is not a result line); --overwrite "
            "would destroy it. Choose another --out, or delete the file yourself first"
        )
    known.update({item.id: item_digest(item) for item in items})
    document = {"kind": KIND, "version": VERSION, "input": str(Path(input_path).resolve()), "items": known}
    write_atomic(sidecar_path(out), json.dumps(document, ensure_ascii=False, indent=0) + "\n")


def _read(out: Path) -> dict[str, str] | None:
    """The recorded item digests, or None when the output has no sidecar (or one that is not ours)."""
    path = sidecar_path(out)
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError):
        raise BatchInputError(f"{path} is damaged or not a tierwise batch record; resume is not safe: choose "
                              "another --out, or --overwrite") from None
    if not isinstance(data, dict) or data.get("kind") != KIND or not isinstance(data.get("items"), dict):
        return None
    if data.get("version") != VERSION:
        raise BatchInputError(f"{path} was written by another tierwise version (record version "
                              f"{data.get('version')!r}); finish that batch with it, or --overwrite")
    return {str(key): str(value) for key, value in data["items"].items()}


def _check_same_items(recorded: dict[str, str], items: Sequence[Item], out: Path, input_path: str | Path) -> None:
    changed = [item for item in items if item.id in recorded and recorded[item.id] != item_digest(item)]
    if changed:
        first = changed[0]
        raise BatchInputError(
            f"{out} holds results of another input: {input_path} line {first.line} (id {first.id!r})"
            f"{f' and {len(changed) - 1} more' if len(changed) > 1 else ''} differ from the items that batch ran. "
            "Resume with the input it was started with, or use another --out (or --overwrite)"
        )


def _looks_like_results(out: Path) -> bool:
    """An output from before sidecars existed: the first line is a result object."""
    try:
        with out.open("rb") as file:
            first = json.loads(file.readline())
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and "id" in first and "status" in first
