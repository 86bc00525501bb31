"""`tierwise eval`: the table moves in the known direction per task type, with honest uncertainty."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tierwise.cli import app
from tierwise.evals import load_cases, run_eval, summarize, write_outcomes
from tierwise.evals.summary import ALL
from tierwise.tiers import build_registry

from .conftest import rules


def write_cases(path, n=12, reference=True):
    lines = []
    for kind in ("A", "B"):
        for i in range(n):
            case = {"id": f"{kind}{i}", "input": f"TYPE-{kind} question {i}", "task_type": kind}
            if reference:
                case["reference"] = "right"
            lines.append(json.dumps(case))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def rows_by(rows):
    return {(r.task_type, r.tier): r for r in rows}


def test_eval_table_moves_in_the_known_direction(scripted, tmp_path):
    _, context = scripted(rules())
    registry = build_registry()
    run = run_eval(load_cases(write_cases(tmp_path / "cases.jsonl")), ["draft"], ["lite", "flash", "pro"],
                   registry=registry, context=context)
    rows = rows_by(summarize(run, registry))
    # A: every tier right; B: only pro right. The baseline is draft's tier today: lite.
    assert rows[("A", "lite")].quality.mean == rows[("A", "pro")].quality.mean == 1.0
    assert rows[("B", "lite")].quality.mean == rows[("B", "flash")].quality.mean == 0.0
    assert rows[("B", "pro")].quality.mean == 1.0
    b_pro = rows[("B", "pro")].diff
    assert b_pro.mean == 1.0 and b_pro.excludes_zero and b_pro.n == 12
    assert rows[("A", "pro")].diff.mean == 0.0 and not rows[("A", "pro")].diff.excludes_zero
    assert rows[("B", "lite")].diff is None and rows[("B", "lite")].baseline == "lite"
    # Wilson, not a 0-width interval: 12 out of 12 still leaves room below 1.
    assert 0.7 < rows[("B", "pro")].quality.lo < 0.8 and rows[("B", "pro")].quality.hi == 1.0
    assert rows[(ALL, "pro")].n == 24 and rows[(ALL, "lite")].quality.mean == 0.5
    # Pro costs more per case; the eval's calls are priced like any other.
    assert rows[("A", "pro")].cost_per_case_usd > 4 * rows[("A", "lite")].cost_per_case_usd > 0
    assert rows[("A", "lite")].p50_latency_ms > 0 and rows[("A", "lite")].failures == 0


def test_eval_results_are_an_outcome_table_calibration_can_read(scripted, tmp_path):
    from tierwise.routing import load_outcomes

    _, context = scripted(rules())
    registry = build_registry()
    run = run_eval(load_cases(write_cases(tmp_path / "cases.jsonl", n=3)), ["draft"], ["lite", "pro"],
                   registry=registry, context=context)
    table = load_outcomes(write_outcomes(run, tmp_path / "eval.csv"))
    assert table.models == ("lite", "pro")  # cheapest first, by the dollars recorded
    assert table.n_prompts == 6 and table.cost_unit == "usd"
    assert list(table.model_quality()) == [0.5, 1.0]
    assert set(table.categories) == {"A", "B"}


def test_judge_checker_grades_with_the_reference_on_the_chosen_tier(scripted, tmp_path):
    emulator, context = scripted(rules())
    path = tmp_path / "cases.jsonl"
    path.write_text(json.dumps({"input": "TYPE-B q", "checker": "judge", "reference": "RIGHT"}) + "\n")
    registry = build_registry()
    run = run_eval(load_cases(path), ["draft"], ["lite", "pro"], registry=registry, context=context,
                   judge_tier="pro")
    by_tier = {o.tier: o for o in run.outcomes}
    assert by_tier["lite"].quality == pytest.approx(0.2) and by_tier["pro"].quality == pytest.approx(0.9)
    assert by_tier["pro"].detail == "judge 9/10: right" and run.judge_cost_usd > 0
    judged = [r for r in emulator.requests if "reference answer" in r.system]
    assert len(judged) == 2 and {r.model for r in judged} == {"gemini-3.1-pro-preview"}


def test_regex_and_json_schema_checkers(scripted, tmp_path):
    _, context = scripted(rules())
    path = tmp_path / "cases.jsonl"
    schema = {"type": "object", "required": ["answer", "confidence"],
              "properties": {"answer": {"type": "string", "enum": ["RIGHT"]}}}
    path.write_text("\n".join([
        json.dumps({"id": "r", "input": "TYPE-B q", "pattern": "^RIGHT$"}),
        json.dumps({"id": "s", "input": "TYPE-B q", "schema": schema}),
    ]) + "\n")
    registry = build_registry()
    run = run_eval(load_cases(path), ["draft"], ["lite", "pro"], registry=registry, context=context)
    got = {(o.case.id, o.tier): o.quality for o in run.outcomes}
    assert got == {("r", "lite"): 0.0, ("r", "pro"): 1.0, ("s", "lite"): 0.0, ("s", "pro"): 1.0}


def test_eval_calls_are_marked_and_kept_out_of_the_traffic_report(scripted, tmp_path):
    from tierwise.ledger import open_ledger

    _, context = scripted(rules())
    registry = build_registry()
    run_eval(load_cases(write_cases(tmp_path / "cases.jsonl", n=2)), ["draft"], ["lite"], registry=registry,
             context=context)
    with open_ledger(create=False) as ledger:
        entries = ledger.entries()
        assert ledger.spend().day_usd == pytest.approx(sum(e.cost_usd for e in entries))
    assert {e.purpose for e in entries} == {"eval"} and len(entries) == 4


def test_the_cli_prints_the_table_and_writes_the_table_and_pictures(scripted, tmp_path):
    emulator, _ = scripted(rules())
    cases = write_cases(tmp_path / "cases.jsonl", n=4)
    out, html, png = tmp_path / "eval.jsonl", tmp_path / "eval.html", tmp_path / "eval.png"
    result = CliRunner().invoke(app, ["eval", "--cases", str(cases), "--stages", "draft", "--tiers", "lite,pro",
                                      "--base-url", emulator.base_url, "--out", str(out), "--html", str(html),
                                      "--png", str(png)])
    assert result.exit_code == 0, result.output
    assert "Δ quality vs baseline" in result.stdout and "+1.00" in result.stdout
    assert out.is_file() and len(out.read_text().splitlines()) == 16
    page = html.read_text()
    assert page.count("<svg") == 1 and "<script src" not in page and 'id="tierwise-eval"' in page
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    as_json = CliRunner().invoke(app, ["eval", "--cases", str(cases), "--tiers", "lite,pro", "--json",
                                       "--base-url", emulator.base_url, "--out", str(out)])
    rows = {(r["task_type"], r["tier"]): r for r in json.loads(as_json.stdout)["rows"]}
    assert rows[("B", "pro")]["diff"]["mean"] == 1.0 and rows[("B", "pro")]["diff"]["n"] == 4


@pytest.mark.parametrize(("line", "message"), [
    ("not json", "cases.jsonl:2: not JSON"),
    ('{"input": ""}', "cases.jsonl:2: 'input' must be a non-empty string"),
    ('{"input": "x", "refrence": "y"}', "cases.jsonl:2: unknown key 'refrence'"),
    ('{"input": "x", "checker": "exact"}', "cases.jsonl:2: checker 'exact' needs a 'reference'"),
    ('{"input": "x", "pattern": "("}', "cases.jsonl:2: 'pattern' is not a valid regex"),
    ('{"input": "x", "schema": {"oneOf": []}}', "unsupported keyword 'oneOf'"),
    ('{"id": "a", "input": "x"}', "cases.jsonl:2: duplicate id 'a' (first on line 1)"),
])
def test_bad_cases_name_the_line_and_exit_2(tmp_path, line, message):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "input": "fine"}\n' + line + "\n")
    result = CliRunner().invoke(app, ["eval", "--cases", str(cases), "--backend", "scripted"])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--stages", "drafts"], "--stages: unknown stage 'drafts'"),
    (["--tiers", "lite,ultra"], "--tiers: unknown tier 'ultra'"),
    (["--judge-tier", "ultra"], "--judge-tier: unknown tier 'ultra'"),
])
def test_bad_options_exit_2_before_any_model_call(tmp_path, args, message):
    cases = write_cases(tmp_path / "cases.jsonl", n=1)
    result = CliRunner().invoke(app, ["eval", "--cases", str(cases), "--backend", "scripted", *args])
    assert result.exit_code == 2 and message in result.stderr, result.output
