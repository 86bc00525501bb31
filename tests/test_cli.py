"""The `tierwise` command: answer, route, priced call table; clear one-line errors, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tierwise.cli import app

runner = CliRunner()
TICKET = "Is this ticket urgent? My card was charged twice."


def test_run_prints_answer_route_and_priced_calls():
    result = runner.invoke(app, ["run", TICKET, "--backend", "scripted"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "duplicate card charge" in out
    assert "route simple" in out and "triage → draft → judge → respond" in out
    for column in ("stage", "model", "tier", "thinking", "cost USD", "latency ms"):
        assert column in out
    assert "gemini-3.5-flash-lite" in out and "gemini-3.8-flash" in out
    assert "same calls all on Pro" in out


def test_run_json_has_the_same_content():
    result = runner.invoke(app, ["run", TICKET, "--backend", "scripted", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["route"] == "simple" and data["answer"]
    # a triage call exactly when LLM triage decided (the default strategy asks it only in its uncertain band)
    llm = data["triage"]["source"] == "llm"
    assert [c["stage"] for c in data["calls"]] == ["triage"] * llm + ["draft", "judge"]
    assert data["total_cost_usd"] == pytest.approx(sum(c["cost_usd"] for c in data["calls"]))
    assert 0 < data["saving"] < 1


def test_run_reads_standard_input():
    result = runner.invoke(app, ["run", "-", "--backend", "scripted", "--json"], input=TICKET)
    assert json.loads(result.stdout)["route"] == "simple"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "   ", "--backend", "scripted"], "error: input is empty"),
        (["run", "hi", "--backend", "quantum"], "error: backend must be one of auto, gemini, vertex, local, scripted"),
        (["run", "hi", "--backend", "gemini"], "error: backend 'gemini' needs GOOGLE_API_KEY"),
        (["run", "hi", "--backend", "scripted", "--registry", "nope.toml"], "nope.toml: no such registry file"),
        (["tiers", "--registry", "nope.toml"], "nope.toml: no such registry file"),
    ],
)
def test_user_mistakes_get_one_clear_line(args, message):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_bad_registry_value_names_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[stages.draft]\ntier = 'ultra'\n")
    result = runner.invoke(app, ["run", "hi", "--backend", "scripted", "--registry", str(bad)])
    assert result.exit_code == 2 and "stages.draft.tier: unknown tier 'ultra'" in result.output


def test_tiers_shows_models_and_prices():
    result = runner.invoke(app, ["tiers"])
    assert result.exit_code == 0
    assert "gemini-3.1-pro-preview" in result.output and "polish" in result.output


def test_the_installed_command_shows_no_traceback_for_a_mistake():
    proc = subprocess.run([sys.executable, "-m", "tierwise.cli", "run", ""], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "error: input is empty: there is nothing to answer"
