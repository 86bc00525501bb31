"""Honest economics: every request carries what ONE direct Pro call would have cost and the net saving, with the
router's own calls, escalations and failed attempts inside the total. Checked against the arithmetic by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from pipeline import pipeline_rules

from tierwise import build_graph
from tierwise.display import result_json
from tierwise.ledger import LedgerEntry, ShadowPair
from tierwise.reports import build_report
from tierwise.tiers import build_registry, load_registry, medians_of

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}


def pro_rates():
    price = load_registry(None).top_model.price_on(date.today())
    return price.input / 1e6, price.output / 1e6


def test_an_escalated_request_against_one_direct_pro_call(scripted, llm_triage):  # scripted triage: simple
    _, context = scripted(pipeline_rules(
        triage=SIMPLE, draft={"answer": "Maybe.", "confidence": "high"},
        judge={"score": 3, "reason": "Vague."}, polish="A duplicate charge is urgent: refund it.", thoughts=50))
    out = build_graph().invoke({"input": "My card was charged twice. Is this urgent?"}, context=context)
    triage, draft, judge, polish = out["calls"]
    assert [c.stage for c in out["calls"]] == ["triage", "draft", "judge", "polish"]

    # total: every call, the router's own (triage, judge) and the escalation included
    assert out["total_cost_usd"] == pytest.approx(sum(c.cost_usd for c in (triage, draft, judge, polish)))
    # one direct Pro call: the request as draft read it, the answer that shipped (polish's visible tokens), and
    # Pro's default thinking (300, [economics]) at Pro's output rate
    rate_in, rate_out = pro_rates()
    answer_tokens = polish.output_tokens - polish.thinking_tokens
    expected = draft.input_tokens * rate_in + (answer_tokens + 300) * rate_out
    assert out["direct_pro_cost_usd"] == pytest.approx(expected, rel=1e-9)
    assert out["net_saving_usd"] == pytest.approx(expected - out["total_cost_usd"], rel=1e-9)
    assert "300 thinking" in out["direct_pro_basis"] and "registry default" in out["direct_pro_basis"]

    shown = result_json(out)  # `tierwise run --json` and batch lines
    assert shown["direct_pro_cost_usd"] == out["direct_pro_cost_usd"]
    assert shown["net_saving_usd"] == out["net_saving_usd"]


def test_failed_attempts_count_in_the_total_not_in_the_direct_call(scripted, llm_triage):
    from tierwise.emulator import Fault

    cut_draft = Fault("max_tokens", "gemini-3.5-flash-lite", after=1, times=1)  # triage ok, draft's 1st try cut
    _, context = scripted(pipeline_rules(triage=SIMPLE, draft={"answer": "Refund it.", "confidence": "high"},
                                         judge={"score": 9, "reason": "ok"}), faults=[cut_draft])
    out = build_graph().invoke({"input": "Charged twice?"}, context=context)
    calls = out["calls"]
    failed, retried = [c for c in calls if c.stage == "draft"]
    assert failed.outcome != "ok" and failed.cost_usd > 0 and retried.outcome == "ok"
    assert out["total_cost_usd"] == pytest.approx(sum(c.cost_usd for c in calls))  # the cut attempt included
    rate_in, rate_out = pro_rates()
    visible = retried.output_tokens - retried.thinking_tokens  # the answer that shipped, not the cut one
    assert out["direct_pro_cost_usd"] == pytest.approx(failed.input_tokens * rate_in + (visible + 300) * rate_out)
    assert out["net_saving_usd"] == pytest.approx(out["direct_pro_cost_usd"] - out["total_cost_usd"])


def entry(call_id, stage, tier, *, request, route, input_tokens=0, output_tokens=0, thinking=0, cost=0.0,
          outcome="ok", purpose=None):
    return LedgerEntry(call_id=call_id, stage=stage, tier=tier, model=f"m-{tier}", started_at=datetime.now(UTC),
                       request_id=request, route=route, input_tokens=input_tokens, output_tokens=output_tokens,
                       thinking_tokens=thinking, cost_usd=cost, outcome=outcome,
                       extra={"purpose": purpose} if purpose else {})


def complex_request(n, thinking):
    return [entry(f"t{n}", "triage", "lite", request=f"r{n}", route="complex", input_tokens=100, output_tokens=10,
                  cost=0.0001),
            entry(f"x{n}", "reason", "pro", request=f"r{n}", route="complex", input_tokens=40,
                  output_tokens=thinking + 60, thinking=thinking, cost=0.002)]


def test_the_report_uses_the_ledgers_own_pro_thinking_once_there_are_enough_calls():
    registry = build_registry(overrides={"economics": {"min_pro_samples": 3}}, env={})
    entries = [e for n, t in enumerate([100, 200, 900]) for e in complex_request(n, t)]
    report = build_report(entries, registry=registry)
    rate_in, rate_out = pro_rates()
    # median thinking of the three Pro reason calls: 200; each request: 40 input + (60 answer + 200) output
    assert report.direct.thinking == {"complex": {"tokens": 200, "samples": 3, "source": "ledger"}}
    assert report.direct.cost_usd == pytest.approx(3 * (40 * rate_in + 260 * rate_out), rel=1e-9)
    assert report.net_saving_usd == pytest.approx(report.direct.cost_usd - 3 * 0.0021, rel=1e-9)
    totals = report.to_dict()
    assert totals["direct_pro_cost_usd"] == report.direct.cost_usd
    assert totals["net_saving_usd"] == pytest.approx(report.net_saving_usd)

    too_few = build_report(entries, registry=build_registry(env={}))  # default min_pro_samples: 20
    assert too_few.direct.thinking == {"complex": {"tokens": 300, "samples": 0, "source": "default"}}


def test_a_shadow_call_on_pro_replaces_the_estimate_and_the_report_says_so():
    import io

    from rich.console import Console

    from tierwise.reports import render_text

    simple = [entry("t", "triage", "lite", request="r", route="simple", input_tokens=90, output_tokens=10, cost=1e-4),
              entry("d", "draft", "lite", request="r", route="simple", input_tokens=30, output_tokens=50, cost=2e-4),
              entry("j", "judge", "flash", request="r", route="simple", input_tokens=80, output_tokens=20, cost=3e-4)]
    other = complex_request(9, 500)
    pair = ShadowPair(shadow_id="s", started_at=datetime.now(UTC), stage="draft", task_type=None, request_id="r",
                      base_call_id="d", base_tier="lite", base_model="m-lite", base_score=8, base_cost_usd=2e-4,
                      shadow_call_id="sd", shadow_tier="pro", shadow_model="m-pro", shadow_score=9,
                      shadow_cost_usd=0.0042, judge_tier="flash", judge_cost_usd=1e-4, verdict="same")
    report = build_report(simple + other, registry=build_registry(env={}), shadow_pairs=[pair])
    rate_in, rate_out = pro_rates()
    estimated = 40 * rate_in + (60 + 300) * rate_out  # the complex request, on the default thinking
    assert report.direct.cost_usd == pytest.approx(0.0042 + estimated, rel=1e-9)
    assert (report.direct.measured_requests, report.direct.estimated_requests) == (1, 1)
    out = io.StringIO()
    render_text(report, Console(file=out, width=400))
    assert "measured for 1 requests by shadow calls on Pro" in out.getvalue() and "estimated for 1" in out.getvalue()


def test_the_graph_uses_the_ledgers_own_pro_thinking_once_there_are_enough(scripted, tmp_path):
    import tierwise
    from tierwise import Context

    complex_ = {"intent": "analysis", "complexity": 5, "confidence": "high"}
    emulator, _ = scripted(pipeline_rules(triage=complex_, reason="Step by step: refund it.", thoughts=120))
    registry = tmp_path / "econ.toml"
    registry.write_text("[economics]\nmin_pro_samples = 3\n")
    context = Context(base_url=emulator.base_url, registry_path=str(registry))
    graph = build_graph()
    medians = medians_of(tierwise.default_runtime().ledgers)
    medians.clear()
    first = graph.invoke({"input": "Compare the two refund policies."}, context=context)
    assert "registry default" in first["direct_pro_basis"]  # no Pro calls in the ledger yet
    for _ in range(2):
        graph.invoke({"input": "Compare the two refund policies."}, context=context)
    medians.clear()  # the call path re-reads the ledger every few minutes; now
    out = graph.invoke({"input": "Compare the two refund policies."}, context=context)
    # the three earlier reason calls and this request's own (journaled before the read): median 120
    assert "120 thinking" in out["direct_pro_basis"] and "median of 4 Pro calls" in out["direct_pro_basis"]
    reason = out["calls"][-1]
    rate_in, rate_out = pro_rates()
    expected = reason.input_tokens * rate_in + (reason.output_tokens - reason.thinking_tokens + 120) * rate_out
    assert out["direct_pro_cost_usd"] == pytest.approx(expected, rel=1e-9)


def test_batch_lines_carry_the_direct_pro_cost_and_the_net_saving(scripted, tmp_path):
    import asyncio
    import json

    from tierwise.batch import arun_batch

    _, context = scripted(pipeline_rules(triage=SIMPLE, draft={"answer": "Refund it.", "confidence": "high"},
                                         judge={"score": 9, "reason": "ok"}))
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "a", "input": "Charged twice?"}) + "\n")
    asyncio.run(arun_batch(tmp_path / "in.jsonl", tmp_path / "out.jsonl", context=context, quiet=True))
    [line] = [json.loads(text) for text in (tmp_path / "out.jsonl").read_text().splitlines()]
    total = sum(call["cost_usd"] for call in line["calls"])
    assert line["total_cost_usd"] == pytest.approx(total)
    assert line["net_saving_usd"] == pytest.approx(line["direct_pro_cost_usd"] - total)
    assert line["direct_pro_cost_usd"] > 0 and "registry default" in line["direct_pro_basis"]
