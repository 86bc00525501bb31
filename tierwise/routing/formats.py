"""Reading and writing outcome rows as CSV, JSONL or Parquet, chosen by the file's extension.

Only the stdlib is needed for CSV and JSONL; Parquet uses pyarrow when it is installed (it is optional:
a 40 MB dependency is not worth forcing on everyone who routes prompts).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from tierwise.errors import InputFileError
from tierwise.strict import loads_json

from .errors import OutcomeError

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


def format_of(path: str | Path) -> str:
    """The format named by the extension; `.gz` is not supported (say so rather than guess)."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        raise OutcomeError(
            path, f"unknown outcome table extension {suffix or '(none)'!r}; use one of {known}"
        )
    return FORMATS[suffix]


def read_rows(path: str | Path) -> list[dict[str, Any]]:
    """All rows of the table as dicts. Raises OutcomeError for a missing or unparsable file."""
    path = Path(path)
    kind = format_of(path)
    if not path.is_file():
        raise OutcomeError(path, "no such file")
    try:
        if kind == "csv":
            return _read_csv(path)
        if kind == "jsonl":
            return _read_jsonl(path)
        return _read_parquet(path)
    except OutcomeError:
        raise
    except (OSError, UnicodeDecodeError, csv.Error, InputFileError) as exc:
        raise OutcomeError(path, f"cannot read {kind.upper()}: {exc}") from exc


def _read_csv(path: Path) -> list[dict[str, Any]]:
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # prompts and responses can be long
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            return []
        return [row for row in reader]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8-sig") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = loads_json(line, line=lineno)
            except InputFileError as exc:
                raise OutcomeError(path, exc.problem, line=lineno) from None
            if not isinstance(row, dict):
                raise OutcomeError(path, f"line {lineno} is not a JSON object")
            rows.append(row)
    return rows


def _read_parquet(path: Path) -> list[dict[str, Any]]:
    try:
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise OutcomeError(
            path, "reading Parquet needs pyarrow (pip install 'tierwise[parquet]'); or use CSV/JSONL"
        ) from exc
    try:
        return pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises its own hierarchy; any failure here is a bad file
        raise OutcomeError(path, f"cannot read Parquet: {exc}") from exc


def write_rows(path: str | Path, rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> Path:
    """Write rows with exactly `columns` (missing keys become empty/null)."""
    path = Path(path)
    kind = format_of(path)
    rows = list(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == "csv":
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
    elif kind == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps({c: row.get(c) for c in columns}, ensure_ascii=False) + "\n")
    else:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise OutcomeError(path, "writing Parquet needs pyarrow (pip install 'tierwise[parquet]')") from exc
        pq.write_table(pa.Table.from_pylist([{c: r.get(c) for c in columns} for r in rows]), path)
    return path
