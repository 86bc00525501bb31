"""`tierwise report`: text, JSON, HTML and PNG from a real ledger; one-line errors with exit 2."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from tierwise.cli import app
from tierwise.ledger import open_ledger

from .test_report import entries

runner = CliRunner()


@pytest.fixture
def filled(ledger_url):
    with open_ledger(ledger_url) as ledger:
        for entry in entries():
            ledger.record(entry)
    return ledger_url


def test_text_report(filled):
    result = runner.invoke(app, ["report", "--ledger", filled])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("triage", "support", "billing", "gemini-3.1-pro-preview", "p95 ms", "escalated", "failed",
                 "total $0.0117", "same calls all on Pro $0.0250", "53.2%", "calls per tier: lite 66.7%"):
        assert text in out, text


def test_json_report(filled):
    result = runner.invoke(app, ["report", "--ledger", filled, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["total"]["calls"] == 6 and data["total"]["cost_usd"] == pytest.approx(0.0117)
    assert data["saving_usd"] == pytest.approx(0.0133)
    assert {(r["stage"], r["task_type"]) for r in data["rows"]} >= {("polish", "support"), ("draft", "billing")}
    assert set(data["rows"][0]) >= {"calls", "tokens", "cost_usd", "p50_latency_ms", "p95_latency_ms",
                                    "escalation_rate", "failure_rate"}


def test_since_filters(filled):
    result = runner.invoke(app, ["report", "--ledger", filled, "--since", "2026-11-22", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]["calls"] == 2


def test_html_and_png_files(filled, tmp_path):
    args = ["report", "--ledger", filled, "--html", str(tmp_path / "out.html")]
    has_png = _has_matplotlib()
    if has_png:
        args += ["--png", str(tmp_path / "out.png")]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    page = (tmp_path / "out.html").read_text()
    assert "$0.0117" in page and "lite 66.7% (4)" in page
    if has_png:
        assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_default_ledger_comes_from_the_environment(filled, monkeypatch):
    monkeypatch.setenv("TIERWISE_LEDGER_URL", filled)
    result = runner.invoke(app, ["report", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["total"]["calls"] == 6


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "last tuesday"], "--since: cannot read 'last tuesday'; use a span like 7d"),
        (["--since", "2030-01-01"], "no calls recorded in sqlite:///"),
    ],
)
def test_user_mistakes_exit_2_with_one_line(filled, args, message):
    if not filled.startswith("sqlite") and "sqlite" in message:
        message = "no calls recorded in postgresql://"
    result = runner.invoke(app, ["report", "--ledger", filled, *args])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_empty_and_missing_ledgers(tmp_path):
    open_ledger(f"sqlite:///{tmp_path / 'empty.db'}").close()
    for target, message in (("empty.db", "no calls recorded in sqlite:///"), ("missing.db", "no ledger at")):
        result = runner.invoke(app, ["report", "--ledger", str(tmp_path / target)])
        assert result.exit_code == 2 and result.stderr.startswith(f"error: {message}"), result.output
        assert "Traceback" not in result.output
    assert not (tmp_path / "missing.db").exists()
    result = runner.invoke(app, ["report"])  # the default data-dir file does not exist yet
    assert result.exit_code == 2 and re.match(r"error: no ledger at .*xdg-data/tierwise/ledger.db", result.stderr)


def test_unreachable_postgres_exits_2():
    pytest.importorskip("psycopg")
    result = runner.invoke(app, ["report", "--ledger", "postgresql://u:pw@127.0.0.1:1/x"])
    assert result.exit_code == 2 and "cannot connect to the ledger at postgresql://u:***@127.0.0.1:1/x" in result.stderr
    assert "pw@" not in result.output


def _has_matplotlib() -> bool:
    import importlib.util

    return importlib.util.find_spec("matplotlib") is not None
