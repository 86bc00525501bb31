"""The report's numbers, against hand-computed values, and the pictures that carry them."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from tierwise.ledger import LedgerEntry, open_ledger
from tierwise.reports import build_report, render_html

from .factory import record

DAY1 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
DAY4 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LITE, FLASH, PRO = "gemini-3.5-flash-lite", "gemini-3.8-flash", "gemini-3.1-pro-preview"

# (stage, tier, model, task, cost, all-Pro cost, latency ms, outcome, escalated, request, day)
CALLS = [
    ("triage", "lite", LITE, "support", 0.0001, 0.002, 10, "ok", False, "r1", DAY1),
    ("draft", "lite", LITE, "support", 0.0002, 0.003, 30, "ok", False, "r1", DAY1),
    ("judge", "flash", FLASH, "support", 0.001, 0.004, 50, "unusable", False, "r1", DAY1),
    ("polish", "pro", PRO, "support", 0.01, 0.01, 200, "ok", True, "r1", DAY1),
    ("triage", "lite", LITE, "billing", 0.0001, 0.002, 20, "ok", False, "r2", DAY4),
    ("draft", "lite", LITE, "billing", 0.0003, 0.004, 40, "error", False, "r2", DAY4),
]


def entries() -> list[LedgerEntry]:
    return [
        LedgerEntry.from_record(
            record(cost, stage=stage, tier=tier, model=model, task_type=task, all_pro_cost_usd=pro, latency_ms=ms,
                   outcome=outcome, input_tokens=100, output_tokens=20, thinking_tokens=5, started_at=day),
            escalated=escalated, request_id=req,
        )
        for stage, tier, model, task, cost, pro, ms, outcome, escalated, req, day in CALLS
    ]


@pytest.fixture
def filled(sqlite_url):
    with open_ledger(sqlite_url) as ledger:
        for entry in entries():
            ledger.record(entry)
    return sqlite_url


def test_numbers_by_hand():
    report = build_report(entries(), tier_order=["lite", "flash", "pro"])
    t = report.total
    assert t.calls == 6 and t.input_tokens == 600 and t.output_tokens == 120 and t.thinking_tokens == 30
    assert t.cost_usd == pytest.approx(0.0117) and t.all_pro_cost_usd == pytest.approx(0.025)
    assert report.saving_usd == pytest.approx(0.0133) and report.saving_share == pytest.approx(0.532)
    # latencies 10 20 30 40 50 200: p50 between 30 and 40; p95 at rank 4.75, between 50 and 200
    assert (t.p50_latency_ms, t.p95_latency_ms) == (35.0, 162.5)
    assert t.failure_rate == pytest.approx(2 / 6) and t.escalation_rate == pytest.approx(1 / 6)
    assert (report.requests, report.escalated_requests) == (2, 1)
    triage = report.by_stage["triage"]
    assert (triage.calls, triage.cost_usd, triage.p50_latency_ms, triage.p95_latency_ms) == (2, 0.0002, 15.0, 19.5)
    assert report.by_task_type["support"].cost_usd == pytest.approx(0.0113)
    assert report.by_model[LITE].calls == 4 and report.by_stage["judge"].failure_rate == 1.0
    assert list(report.by_tier) == ["lite", "flash", "pro"]
    assert report.tier_share() == pytest.approx({"lite": 4 / 6, "flash": 1 / 6, "pro": 1 / 6})
    assert [(r.stage, r.task_type) for r in report.rows] == [  # by cost, ties by name
        ("polish", "support"), ("judge", "support"), ("draft", "billing"), ("draft", "support"),
        ("triage", "billing"), ("triage", "support")]
    series = report.series
    assert series.unit == "day" and series.buckets == ["2026-11-20", "2026-11-21", "2026-11-22", "2026-11-23"]
    assert series.by_tier["lite"] == pytest.approx([0.0003, 0, 0, 0.0004])
    assert series.by_tier["pro"] == pytest.approx([0.01, 0, 0, 0])
    assert series.by_stage["draft"] == pytest.approx([0.0002, 0, 0, 0.0003])


def test_short_spans_are_bucketed_by_hour():
    report = build_report(entries()[:4])
    assert report.series.unit == "hour" and report.series.buckets == ["2026-11-20 10:00"]


def test_html_is_self_contained_and_holds_the_numbers(tmp_path):
    page = render_html(build_report(entries(), ledger="sqlite:///x.db", tier_order=["lite", "flash", "pro"]))
    for text in ("$0.0117", "$0.0250", "$0.0133 (53.2%)", "lite 66.7% (4)", "flash 16.7% (1)", "pro 16.7% (1)",
                 "Spend by stage per day", "Spend by tier per day", "2026-11-23"):
        assert text in page, text
    assert page.count("<svg") == 3
    assert not re.search(r"<script[^>]*\bsrc=|<link|<img|@import|url\(", page)  # nothing fetched from outside
    embedded = re.search(r'<script type="application/json" id="tierwise-report">(.*?)</script>', page, re.S)
    data = json.loads(embedded.group(1))
    assert data["total"]["cost_usd"] == pytest.approx(0.0117) and data["saving_share"] == pytest.approx(0.532)


def test_png_holds_the_totals(tmp_path):
    pytest.importorskip("matplotlib")
    from PIL import Image

    from tierwise.reports import render_png

    out = tmp_path / "out.png"
    render_png(build_report(entries()), out)
    image = Image.open(out)
    assert image.format == "PNG" and image.size[0] > 600
    summary = json.loads(image.text["tierwise-report"])
    assert summary["total"]["cost_usd"] == pytest.approx(0.0117)
    assert summary["tier_share"]["lite"] == pytest.approx(4 / 6, abs=1e-6)


def test_the_plain_report_says_where_stand_in_calls_went(tmp_path, monkeypatch):
    """A scripted run records apart from real spend; the report of the real ledger says where, and how to read it."""
    from typer.testing import CliRunner

    from tierwise.cli import app

    monkeypatch.delenv("TIERWISE_LEDGER_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    runner = CliRunner()
    assert runner.invoke(app, ["run", "Is this urgent?", "--backend", "scripted"]).exit_code == 0
    refused = runner.invoke(app, ["report"])
    stand_in = tmp_path / "tierwise" / "stand-in-ledger.db"
    assert refused.exit_code == 2 and f"tierwise report --ledger {stand_in}" in refused.output
    shown = runner.invoke(app, ["report", "--ledger", str(stand_in)])
    assert shown.exit_code == 0, shown.output
