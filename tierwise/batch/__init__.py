"""`tierwise batch`: a JSONL file of requests through the graph, with progress, resume and a stage cache.

    from tierwise.batch import run_batch
    summary = run_batch("tickets.jsonl", "answers.jsonl", concurrency=16, resume=True)

Modules, one concern each: `items` (read and check the input), `grouping` (order for shared prompt prefixes),
`journal` (the output file, which is also the resume record), `cache` (stage outputs kept across retries),
`progress` (the progress line), `runner` (the concurrent run), `cli` (the command). Imports are lazy: the
`tierwise` command loads none of this until `tierwise batch` runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "BatchInputError": "tierwise.errors",
    "BatchOutputError": "tierwise.errors",
    "StageCache": "tierwise.batch.cache",
    "Item": "tierwise.batch.items",
    "read_items": "tierwise.batch.items",
    "BatchSummary": "tierwise.batch.runner",
    "arun_batch": "tierwise.batch.runner",
    "run_batch": "tierwise.batch.runner",
}

__all__ = ["BatchInputError", "BatchOutputError", "BatchSummary", "Item", "StageCache", "arun_batch", "read_items",
           "run_batch"]

if TYPE_CHECKING:
    from tierwise.errors import BatchInputError, BatchOutputError

    from .cache import StageCache
    from .items import Item, read_items
    from .runner import BatchSummary, arun_batch, run_batch


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
