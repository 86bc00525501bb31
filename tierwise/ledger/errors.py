"""The ledger's errors, defined with every other public error in tierwise.errors (re-exported here)."""

from tierwise.errors import BudgetExceededError, LedgerError, LedgerSchemaError

__all__ = ["BudgetExceededError", "LedgerError", "LedgerSchemaError"]
