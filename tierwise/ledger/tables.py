"""The ledger's tables, in the few types SQLite and PostgreSQL spell differently."""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Dialect:
    name: str
    param: str  # placeholder: "?" (sqlite3) or "%s" (psycopg)
    timestamp: str
    boolean: str
    false: str
    real: str
    integer: str
    for_update: str  # row locks for a read-then-write: PostgreSQL's; SQLite's write lock already covers the file


SQLITE = Dialect("sqlite", "?", "TEXT", "INTEGER", "0", "REAL", "INTEGER", "")
POSTGRES = Dialect("postgresql", "%s", "TIMESTAMPTZ", "BOOLEAN", "false", "DOUBLE PRECISION", "BIGINT", " FOR UPDATE")


def ddl(d: Dialect) -> list[str]:
    """Idempotent CREATE statements. Counters live beside the rows so that checking a cap reads one row."""
    return [
        f"""CREATE TABLE IF NOT EXISTS tierwise_calls (
            call_id TEXT PRIMARY KEY,
            stage TEXT NOT NULL,
            tier TEXT NOT NULL,
            model TEXT NOT NULL,
            started_at {d.timestamp} NOT NULL,
            request_id TEXT,
            task_type TEXT,
            route TEXT,
            escalated {d.boolean} NOT NULL DEFAULT {d.false},
            downgraded_from TEXT,
            service_tier TEXT NOT NULL DEFAULT 'standard',
            input_tokens {d.integer} NOT NULL DEFAULT 0,
            output_tokens {d.integer} NOT NULL DEFAULT 0,
            thinking_tokens {d.integer} NOT NULL DEFAULT 0,
            cached_tokens {d.integer} NOT NULL DEFAULT 0,
            cost_usd {d.real} NOT NULL DEFAULT 0,
            all_pro_cost_usd {d.real} NOT NULL DEFAULT 0,
            latency_ms {d.real} NOT NULL DEFAULT 0,
            outcome TEXT NOT NULL,
            error TEXT,
            error_kind TEXT,
            attempt {d.integer} NOT NULL DEFAULT 1,
            fallback {d.boolean} NOT NULL DEFAULT {d.false},
            prompt_sha256 TEXT,
            prompt_text TEXT,
            extra TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS tierwise_calls_started_at ON tierwise_calls (started_at)",
        "CREATE INDEX IF NOT EXISTS tierwise_calls_request_id ON tierwise_calls (request_id)",
        f"""CREATE TABLE IF NOT EXISTS tierwise_spend (
            period TEXT NOT NULL,
            scope TEXT NOT NULL,
            usd {d.real} NOT NULL DEFAULT 0,
            calls {d.integer} NOT NULL DEFAULT 0,
            PRIMARY KEY (period, scope)
        )""",
        "CREATE TABLE IF NOT EXISTS tierwise_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        *reservation_ddl(d),
        *shadow_ddl(d),
    ]


def reservation_ddl(d: Dialect) -> list[str]:
    """Spend held for attempts in flight (their worst case), until each is settled to its real cost, released,
    or — left by a process that died — past `expires_at` (seconds since the epoch)."""
    return [
        f"""CREATE TABLE IF NOT EXISTS tierwise_reservations (
            reservation_id TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            month TEXT NOT NULL,
            task_type TEXT,
            usd {d.real} NOT NULL,
            expires_at {d.real} NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS tierwise_reservations_month ON tierwise_reservations (month, expires_at)",
        # The same holds, per tenant the attempt's request belongs to ([budget.per_label]): one row per scope.
        f"""CREATE TABLE IF NOT EXISTS tierwise_label_holds (
            reservation_id TEXT NOT NULL,
            scope TEXT NOT NULL,
            day TEXT NOT NULL,
            month TEXT NOT NULL,
            usd {d.real} NOT NULL,
            expires_at {d.real} NOT NULL,
            PRIMARY KEY (reservation_id, scope)
        )""",
        "CREATE INDEX IF NOT EXISTS tierwise_label_holds_scope ON tierwise_label_holds (scope, month, expires_at)",
    ]


def shadow_ddl(d: Dialect) -> list[str]:
    """Shadow traffic: one row per (answer, higher-tier answer) pair and the judge's verdict on them."""
    return [
        f"""CREATE TABLE IF NOT EXISTS tierwise_shadow (
            shadow_id TEXT PRIMARY KEY,
            started_at {d.timestamp} NOT NULL,
            stage TEXT NOT NULL,
            task_type TEXT,
            request_id TEXT,
            base_call_id TEXT NOT NULL,
            base_tier TEXT NOT NULL,
            base_model TEXT NOT NULL,
            base_score {d.integer},
            base_cost_usd {d.real} NOT NULL DEFAULT 0,
            shadow_call_id TEXT NOT NULL,
            shadow_tier TEXT NOT NULL,
            shadow_model TEXT NOT NULL,
            shadow_score {d.integer},
            shadow_cost_usd {d.real} NOT NULL DEFAULT 0,
            judge_tier TEXT,
            judge_cost_usd {d.real} NOT NULL DEFAULT 0,
            verdict TEXT NOT NULL,
            reason TEXT
        )""",
        "CREATE INDEX IF NOT EXISTS tierwise_shadow_started_at ON tierwise_shadow (started_at)",
    ]
