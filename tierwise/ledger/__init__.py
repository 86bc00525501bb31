"""The ledger: every priced model call persisted (SQLite by default, PostgreSQL for many workers), with the spend
counters and reservations the budget (tierwise.budget) enforces its caps through, and the shadow pairs.

    from tierwise.ledger import open_ledger, parse_since
    with open_ledger("sqlite:///spend.db") as ledger:
        entries = ledger.entries(since=parse_since("7d"))

Storage only: the caps live in tierwise.budget, the cost report in tierwise.reports, the direct-Pro economics in
tierwise.tiers.economics. Imports are lazy: the `tierwise` command loads none of this until it reads a ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "ENV_URL": "tierwise.ledger.url",
    "GoodCall": "tierwise.ledger.base",
    "Ledger": "tierwise.ledger.base",
    "LedgerEntry": "tierwise.ledger.entry",
    "Spend": "tierwise.ledger.periods",
    "LedgerError": "tierwise.errors",
    "LedgerSchemaError": "tierwise.errors",
    "open_ledger": "tierwise.ledger.url",
    "check_ledger": "tierwise.ledger.url",
    "LedgerPool": "tierwise.ledger.url",
    "STAND_IN_FILE": "tierwise.ledger.url",
    "resolve_url": "tierwise.ledger.url",
    "default_path": "tierwise.ledger.url",
    "parse_since": "tierwise.ledger.since",
    "ShadowPair": "tierwise.ledger.shadow",
    "SQLiteLedger": "tierwise.ledger.sqlite",
    "PostgresLedger": "tierwise.ledger.postgres",
}

__all__ = [
    "ENV_URL",
    "STAND_IN_FILE",
    "GoodCall",
    "Ledger",
    "LedgerEntry",
    "LedgerError",
    "LedgerPool",
    "LedgerSchemaError",
    "PostgresLedger",
    "SQLiteLedger",
    "ShadowPair",
    "Spend",
    "check_ledger",
    "default_path",
    "open_ledger",
    "parse_since",
    "resolve_url",
]

if TYPE_CHECKING:
    from tierwise.errors import LedgerError, LedgerSchemaError

    from .base import GoodCall, Ledger
    from .entry import LedgerEntry
    from .periods import Spend
    from .postgres import PostgresLedger
    from .shadow import ShadowPair
    from .since import parse_since
    from .sqlite import SQLiteLedger
    from .url import ENV_URL, STAND_IN_FILE, LedgerPool, check_ledger, default_path, open_ledger, resolve_url


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
