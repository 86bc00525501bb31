"""Tenants end to end: labels come in the graph input, batch lines and `tierwise run --label`, reach every ledger
row and trace, are held to their own caps, and `tierwise report --by label:user` shows spend, remaining budget and
refusals per tenant. A label value is data: shown as the text it is, never markup, never a path."""

from __future__ import annotations

import json

import pytest
from pipeline import pipeline_rules
from typer.testing import CliRunner

from tierwise import build_graph
from tierwise.batch import BatchInputError, read_items
from tierwise.cli import app
from tierwise.errors import TierwiseError
from tierwise.ledger import open_ledger

runner = CliRunner()
SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
# Every user gets a dollar a day; "mallory" is held to a millionth of a cent (no call fits).
REGISTRY = """
[budget.per_label.user]
hard_daily_usd = 1.0
daily_usd = 0.9

[budget.per_label.user.overrides.mallory]
hard_daily_usd = 0.00000001
"""
ODD = "[bold red]../../etc/passwd<script>x</script>"  # markup, a path and HTML: just text to tierwise


def rules():
    return pipeline_rules(triage=SIMPLE, draft={"answer": "Yes.", "confidence": "high"},
                          judge={"score": 9, "reason": "Fine."})


def test_each_tenant_is_held_to_its_own_cap(scripted, tmp_path):
    (tmp_path / "tierwise.toml").write_text(REGISTRY)
    _, context = scripted(rules())
    graph = build_graph()
    refused = graph.invoke({"input": "Charged twice?", "labels": {"user": "mallory"}}, context=context)
    assert refused["failure"]["kind"] == "budget" and refused["calls"] == []
    assert "for user 'mallory'" in refused["failure"]["message"]
    answered = graph.invoke({"input": "Charged twice?", "labels": {"user": "alice", "team": "support"}},
                            context=context)
    assert answered["answer"] == "Yes." and not answered.get("failure")
    odd = graph.invoke({"input": "Charged twice?", "labels": {"user": ODD}}, context=context)
    assert odd["answer"] == "Yes."
    with open_ledger() as ledger:
        rows = ledger.entries()
        totals = ledger.label_totals("user")
    assert {json.dumps(r.labels, sort_keys=True) for r in rows} == {
        json.dumps({"user": "alice", "team": "support"}, sort_keys=True), json.dumps({"user": ODD})}
    assert all(r.tenants == {"user": r.labels["user"]} for r in rows)  # only [budget.per_label] keys are counted
    assert totals["alice"]["day_usd"] == pytest.approx(answered["total_cost_usd"])
    assert totals[ODD]["day_usd"] == pytest.approx(odd["total_cost_usd"])
    assert totals["mallory"] == {"day_usd": 0.0, "month_usd": 0.0, "calls_today": 0, "refused_today": 1}
    assert not list(tmp_path.rglob("passwd"))  # a label value never names a file

    report = runner.invoke(app, ["report", "--by", "label:user", "--json"])
    assert report.exit_code == 0, report.output
    tenants = {t["value"]: t for t in json.loads(report.stdout)["tenants"]}
    assert tenants["mallory"]["refused_today"] == 1 and tenants["mallory"]["hard_daily_usd"] == 0.00000001
    assert tenants["alice"]["cost_usd"] == pytest.approx(answered["total_cost_usd"])
    assert tenants["alice"]["remaining_today_usd"] == pytest.approx(1.0 - answered["total_cost_usd"])
    text = runner.invoke(app, ["report", "--by", "label:user"])
    assert text.exit_code == 0, text.output
    assert ODD in text.stdout  # printed as its characters: no markup was interpreted
    assert "refused today" in text.stdout and "left today" in text.stdout
    teams = json.loads(runner.invoke(app, ["report", "--by", "label:team", "--json"]).stdout)["tenants"]
    assert [(t["value"], t["calls"], t["hard_daily_usd"]) for t in teams] == [("support", 3, None)]


def test_a_tenant_past_its_soft_cap_steps_down(scripted, tmp_path):
    (tmp_path / "tierwise.toml").write_text("[budget.per_label.team]\ndaily_usd = 0.0000001\n")
    _, context = scripted(rules())
    result = build_graph().invoke({"input": "Charged twice?", "labels": {"team": "support"}}, context=context)
    judge = next(c for c in result["calls"] if c.stage == "judge")
    assert judge.tier == "lite"  # the judge runs on flash normally; past the team's soft cap, on the cheapest tier
    with open_ledger() as ledger:
        [row] = [r for r in ledger.entries() if r.stage == "judge"]
    assert row.downgraded_from == "flash"


def test_run_takes_labels(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWISE_LEDGER_URL", f"sqlite:///{tmp_path}/named.db")  # the scripted demo's calls: here
    (tmp_path / "reg.toml").write_text(REGISTRY)
    result = runner.invoke(app, ["run", "Is this urgent?", "--backend", "scripted", "--registry",
                                 str(tmp_path / "reg.toml"), "--label", "user=carol", "--label", "team=ops", "--json"])
    assert result.exit_code == 0, result.output
    with open_ledger() as ledger:
        # the request's labels on every call (beside tierwise's own router_margin when the pre-router was asked)
        assert {json.dumps({k: v for k, v in r.labels.items() if k != "router_margin"}, sort_keys=True)
                for r in ledger.entries()} == {'{"team": "ops", "user": "carol"}'}
    report = runner.invoke(app, ["report", "--by", "label:user", "--registry", str(tmp_path / "reg.toml")])
    assert report.exit_code == 0 and "carol" in report.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--label", "user"], "--label 'user': write NAME=VALUE"),
    (["--label", "User=x"], "is not a lower-case name"),
    (["--label", "route=x"], "'route' is tierwise's own"),
    (["--label", "user=a\nb"], "control character"),
    (["--label", "user="], "is empty"),
    (["--label", "user=a", "--label", "user=b"], "--label user is given twice"),
])
def test_bad_labels_are_refused_before_any_call(args, message):
    result = runner.invoke(app, ["run", "Is this urgent?", "--backend", "scripted", *args])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and message in result.output and "Traceback" not in result.output


def test_bad_report_by():
    result = runner.invoke(app, ["report", "--by", "user"])
    assert result.exit_code == 2 and "--by 'user': write label:NAME" in result.output


def test_graph_input_labels_are_checked_before_any_call(scripted):
    emulator, context = scripted(rules())
    for labels, message in (({"user": 7}, "must be text"), ("alice", "must be a dict"),
                            ({"user": "x" * 500}, "at most")):
        with pytest.raises(TierwiseError, match=message):
            build_graph().invoke({"input": "hi", "labels": labels}, context=context)
    assert emulator.requests == []


def test_batch_lines_carry_labels(tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text('{"input": "a", "labels": {"user": "alice"}}\n{"input": "b"}\n')
    first, second = read_items(path)
    assert first.payload("r1")["labels"] == {"user": "alice"} and "labels" not in second.payload("r2")
    path.write_text('{"input": "a", "labels": {"user": ["alice"]}}\n')
    with pytest.raises(BatchInputError, match=r"in.jsonl:1: .*labels.*must be text"):
        read_items(path)
