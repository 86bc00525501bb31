"""Ledger fixtures: real SQLite files in tmp_path and a real PostgreSQL server (no mocks).

PostgreSQL: set TIERWISE_TEST_PG_URL to a server URL whose user may create databases (`.ci/postgres.sh` starts
one and prints it). The session creates its own database and drops it at the end; each test gets its own
schema in it, through the URL's `options=-csearch_path=...`.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

PG_ENV = "TIERWISE_TEST_PG_URL"


@pytest.fixture(autouse=True)
def _isolated_ledger_env(monkeypatch, tmp_path):
    """No test reads the user's ledger: no TIERWISE_LEDGER_URL, and the data dir is inside tmp_path."""
    monkeypatch.delenv("TIERWISE_LEDGER_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    yield


@pytest.fixture(scope="session")
def pg_database():
    """A fresh database on the test server for this session, dropped afterwards."""
    server = os.environ.get(PG_ENV)
    if not server:
        pytest.skip(f"PostgreSQL tests need {PG_ENV} (run .ci/postgres.sh and export the URL it prints)")
    import psycopg  # with the variable set, a missing driver is a failure, not a skip

    name = f"tierwise_test_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield urlunsplit(urlsplit(server)._replace(path=f"/{name}", query=""))
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url(pg_database):
    """A URL whose connections land in a schema of their own: each test starts from an empty ledger."""
    import psycopg

    schema = f"t_{secrets.token_hex(5)}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{pg_database}?options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def pg_url2(pg_url):
    """A second empty PostgreSQL ledger in the same test (each `pg_url` request returns the same one)."""
    import psycopg

    schema = f"t_{secrets.token_hex(5)}"
    base = pg_url.split("?", 1)[0]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    yield f"{base}?options={quote(f'-csearch_path={schema}')}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'ledger.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request):
    """Each test that takes it runs on both backends."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")
