"""`tierwise suggest`: moves in the right direction with the expected dollar and quality change — or says the
samples are too few."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tierwise import Context, call_stage
from tierwise.cli import app
from tierwise.evals import load_cases, run_eval, write_outcomes
from tierwise.prompts import render
from tierwise.state import Draft
from tierwise.tiers import build_registry

from .conftest import PRO, rules, shadow

SHADOW = """
[shadow]
enabled = true
max_in_flight = 64

[shadow.stages.draft]
rate = 1.0
tier = "pro"

[optimizer]
min_samples = 20
"""


def traffic(context, kind, n):
    for i in range(n):
        call_stage("draft", render("draft", input=f"TYPE-{kind} question {i}"), schema=Draft, context=context,
                   task_type=kind, labels={"request_id": f"{kind}-{i}"})
    assert shadow.drain(60)


def suggest_json(*args):
    result = CliRunner().invoke(app, ["suggest", "--json", *args])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    return out, {(s["stage"], s["task_type"]): s for s in out["suggestions"]}


def test_shadow_verdicts_move_the_weak_task_type_up_and_leave_the_other(scripted, registry_file, tmp_path):
    emulator, context = scripted(rules())
    registry = registry_file(SHADOW)
    context = Context(base_url=emulator.base_url, registry_path=registry)
    traffic(context, "A", 20)
    traffic(context, "B", 20)
    out_file = tmp_path / "tierwise.suggested.toml"
    out, by_key = suggest_json("--registry", registry, "--out", str(out_file))
    b, a = by_key[("draft", "B")], by_key[("draft", "A")]
    assert (b["current"], b["action"], b["target"]) == ("lite", "up", "pro")
    assert b["quality_change"]["mean"] == pytest.approx(0.7) and b["quality_change"]["n"] == 20
    assert b["confidence"] >= 0.9 and b["calls"] == 20 and b["error_rate"] == 0.0
    assert b["usd_change"] > 0 and b["usd_change_per_call"] == pytest.approx(b["usd_change"] / 20)
    assert b["evidence"] == [{"tier": "pro", "source": "shadow", "n": 20}]
    assert (a["action"], a["target"], a["quality_change"]["mean"]) == ("stay", None, 0.0)
    # The file holds the one move, validates, and the call path honours it — for B only.
    text = out_file.read_text()
    assert '[task_types.B.stages.draft]\ntier = "pro"' in text and "task_types.A" not in text
    assert "nothing here is applied" in text and out["written"] == str(out_file)
    assert CliRunner().invoke(app, ["tiers", "--registry", str(out_file)]).exit_code == 0
    accepted = Context(base_url=emulator.base_url, registry_path=str(out_file))
    for kind, tier in (("B", "pro"), ("A", "lite")):
        result = call_stage("draft", render("draft", input=f"TYPE-{kind} q"), schema=Draft, context=accepted,
                            task_type=kind)
        assert result.record.tier == tier


def test_eval_results_move_an_overpaid_task_type_down(scripted, registry_file, tmp_path):
    emulator, _ = scripted(rules())
    registry = registry_file("""
[task_types.C.stages.draft]
tier = "pro"

[optimizer]
min_samples = 20
max_quality_loss = 0.05
""")
    context = Context(base_url=emulator.base_url, registry_path=registry)
    traffic(context, "C", 5)  # today C's drafts run on pro
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps({"input": f"TYPE-C q{i}", "task_type": "C", "reference": "right"}) + "\n"
                             for i in range(40)))
    reg = build_registry(registry)
    run = run_eval(load_cases(cases), ["draft"], ["lite", "pro"], registry=reg, context=context)
    evals = write_outcomes(run, tmp_path / "eval.csv")
    out, by_key = suggest_json("--registry", registry, "--evals", str(evals), "--out", str(tmp_path / "s.toml"))
    c = by_key[("draft", "C")]
    assert (c["current"], c["action"], c["target"]) == ("pro", "down", "lite")
    assert c["evidence"] == [{"tier": "lite", "source": "eval", "n": 40}]
    assert c["quality_change"]["mean"] == 0.0 and c["quality_change"]["lo"] > -0.05
    assert c["usd_change"] < 0 and c["calls"] == 5  # five pro calls re-priced at lite's rates
    assert '[task_types.C.stages.draft]\ntier = "lite"' in (tmp_path / "s.toml").read_text()


def test_too_few_samples_says_so_and_suggests_nothing(scripted, registry_file, tmp_path):
    emulator, _ = scripted(rules())
    registry = registry_file(SHADOW)
    traffic(Context(base_url=emulator.base_url, registry_path=registry), "B", 5)
    out_file = tmp_path / "s.toml"
    out, by_key = suggest_json("--registry", registry, "--out", str(out_file))
    b = by_key[("draft", "B")]
    assert (b["action"], b["target"], b["confidence"], b["usd_change"]) == ("too few samples", None, None, None)
    assert "5 shadow pairs vs pro" in b["reason"] and "need 20" in b["reason"]
    assert out["written"] is None and not out_file.exists()
    table = CliRunner().invoke(app, ["suggest", "--registry", registry, "--out", str(out_file)])
    assert table.exit_code == 0 and "too few samples" in table.stdout
    assert "nothing written" in table.stderr


def test_a_small_gap_is_not_enough_to_move(scripted, registry_file):
    """Pro is judged a little better (9 vs 8.5 on average): below min_quality_gain, so the stage stays."""
    rules_ = rules()
    odd_wrong = "(?s)Request:\\s*TYPE-B question [0-9]*[13579]\\b.*Answer to grade:\\s*WRONG"
    rules_.insert(0, {"system": "grade an answer", "user": odd_wrong, "reply": {"score": 8, "reason": "ok"}})
    rules_.insert(1, {"system": "grade an answer", "user": "Answer to grade:\\s*WRONG", "reply": {"score": 9,
                      "reason": "fine"}})
    emulator, _ = scripted(rules_)
    registry = registry_file(SHADOW)
    traffic(Context(base_url=emulator.base_url, registry_path=registry), "B", 20)
    _, by_key = suggest_json("--registry", registry, "--out", "s.toml")
    b = by_key[("draft", "B")]
    assert b["action"] == "stay" and b["quality_change"]["mean"] == pytest.approx(0.05)  # not "more than"


def test_critical_stages_are_never_moved_down(registry_file, tmp_path):
    rows = [{"prompt_id": f"c{i}:polish", "prompt": "p", "model": tier, "quality": 1, "cost_usd": 0.001,
             "stage": "polish", "tier": tier, "task_type": ""} for i in range(40) for tier in ("lite", "pro")]
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _, by_key = suggest_json("--evals", str(path), "--out", str(tmp_path / "s.toml"))
    polish = by_key[("polish", None)]
    assert polish["action"] == "stay" and "critical" in polish["reason"]


@pytest.mark.parametrize(("args", "message"), [
    (["--window", "soon"], "--window: cannot read 'soon'"),
    (["--evals", "missing.csv"], "missing.csv: no such file"),
    ([], "no ledger at"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    result = CliRunner().invoke(app, ["suggest", *args])
    assert result.exit_code == 2 and result.stderr.startswith("error: ") and message in result.stderr, result.output


def test_never_writes_the_registry_in_force(scripted, registry_file, tmp_path):
    emulator, _ = scripted(rules())
    registry = registry_file(SHADOW)
    traffic(Context(base_url=emulator.base_url, registry_path=registry), "B", 20)
    before = open(registry).read()
    for target in (registry, "tierwise.toml"):
        result = CliRunner().invoke(app, ["suggest", "--registry", registry, "--out", target])
        assert result.exit_code == 2 and "never into it" in result.stderr
    assert open(registry).read() == before


def test_calls_on_the_target_tier_were_really_made(scripted, registry_file):
    emulator, _ = scripted(rules())
    registry = registry_file(SHADOW)
    traffic(Context(base_url=emulator.base_url, registry_path=registry), "A", 2)
    assert sum(r.model == PRO for r in emulator.requests) == 2
