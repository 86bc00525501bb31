"""Every route of the graph, driven by scripted answers through the real Gemini client over loopback."""

from __future__ import annotations

import asyncio

from pipeline import assert_calls_priced, pipeline_rules
from pydantic import BaseModel

from tierwise import build_graph

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
MODERATE = {"intent": "writing", "complexity": 3, "confidence": "medium"}
COMPLEX = {"intent": "analysis", "complexity": 5, "confidence": "high"}
EXTRACTION = {"intent": "extraction", "complexity": 2, "confidence": "high"}
GOOD_DRAFT = {"answer": "Yes: refund the duplicate charge today.", "confidence": "high"}


def run(context, text="My card was charged twice. Is this urgent?", **kwargs):
    return build_graph(**kwargs).invoke({"input": text}, context=context)


def stages(result):
    return [(c.stage, c.tier) for c in result["calls"]]


def assert_priced(result):
    assert all(call.outcome == "ok" for call in result["calls"])
    assert_calls_priced(result)


def test_simple_route_passes_the_judge(scripted):
    emulator, context = scripted(pipeline_rules(
        triage=SIMPLE, draft=GOOD_DRAFT, judge={"score": 9, "reason": "Correct."}))
    result = run(context)
    assert result["route"] == "simple"
    assert result["steps"] == ["triage", "draft", "judge", "respond"]
    assert stages(result) == [("triage", "lite"), ("draft", "lite"), ("judge", "flash")]
    assert result["answer"] == GOOD_DRAFT["answer"]
    assert result["score"] == 9 and result["escalated"] is False
    assert [r.model for r in emulator.requests] == [c.model for c in result["calls"]]
    assert_priced(result)
    assert result["total_cost_usd"] < result["all_pro_cost_usd"] / 4  # nothing ran on Pro


def test_simple_route_escalates_a_weak_draft_to_pro(scripted):
    _, context = scripted(pipeline_rules(
        triage=SIMPLE, draft={"answer": "Maybe.", "confidence": "high"},
        judge={"score": 3, "reason": "Vague."}, polish="A duplicate charge is urgent: refund it.", thoughts=50))
    result = run(context)
    assert result["steps"] == ["triage", "draft", "judge", "polish", "respond"]
    assert stages(result)[-1] == ("polish", "pro")
    assert result["escalated"] is True and result["score"] == 3
    assert result["answer"] == "A duplicate charge is urgent: refund it."
    assert result["draft"] == "Maybe."
    polish = result["calls"][-1]
    assert polish.thinking_tokens == 50 and polish.output_tokens > 50  # thinking billed as output
    assert_priced(result)


def test_extract_route_reasons_over_the_json_not_the_raw_text(scripted):
    extracted = {"task": "Total the invoice.", "fields": [{"name": "amount", "value": "120 EUR"}]}
    emulator, context = scripted(pipeline_rules(triage=EXTRACTION, extract=extracted, reason="Total: 120 EUR."))
    secret_line = "ACME internal reference 99-XYZ"
    result = run(context, f"Extract the amount from this invoice. {secret_line}. Amount due: 120 EUR.")
    assert result["route"] == "extract"
    assert result["steps"] == ["triage", "extract", "reason", "respond"]
    assert stages(result) == [("triage", "lite"), ("extract", "lite"), ("reason", "pro")]
    assert result["answer"] == "Total: 120 EUR."
    reason_request = emulator.requests[-1]
    assert "120 EUR" in reason_request.user and "Total the invoice." in reason_request.user
    assert secret_line not in reason_request.user  # Pro reads the checked JSON, not the raw text
    extract_request = emulator.requests[1]
    assert extract_request.json_schema is not None  # schema-strict structured output was requested
    assert_priced(result)


def test_extract_accepts_the_callers_own_schema(scripted):
    class Invoice(BaseModel):
        customer: str
        amount_eur: float

    emulator, context = scripted(pipeline_rules(
        triage=EXTRACTION, extract={"customer": "ACME", "amount_eur": 120.0}, reason="ACME owes 120 EUR."))
    result = run(context, "Extract the customer and amount: ACME, 120 EUR", extract_schema=Invoice)
    assert set(emulator.requests[1].json_schema["properties"]) == {"customer", "amount_eur"}
    assert '"customer": "ACME"' in emulator.requests[2].user
    assert result["answer"] == "ACME owes 120 EUR."


def test_complex_route_goes_straight_to_pro(scripted):
    _, context = scripted(pipeline_rules(triage=COMPLEX, reason="Option B, because ...", thoughts=300))
    result = run(context, "Compare these three database designs and recommend one.")
    assert result["route"] == "complex"
    assert result["steps"] == ["triage", "reason", "respond"]
    assert stages(result) == [("triage", "lite"), ("reason", "pro")]
    assert result["calls"][-1].thinking_tokens == 300
    assert result["escalated"] is False
    assert_priced(result)


def test_moderate_route_escalates_on_low_self_confidence(scripted):
    emulator, context = scripted(pipeline_rules(
        triage=MODERATE, draft={"answer": "Dear team, ...", "confidence": "low"}, polish="Dear team, (final)"))
    result = run(context, "Write a short note to the team about the outage.")
    assert result["route"] == "moderate"
    assert result["steps"] == ["triage", "draft", "polish", "respond"]  # no judge call: the draft said so
    assert stages(result) == [("triage", "lite"), ("draft", "lite"), ("polish", "pro")]
    assert result["escalated"] is True
    assert result["answer"] == "Dear team, (final)"
    assert_priced(result)


def test_moderate_route_keeps_a_confident_draft_and_asks_the_judge(scripted):
    _, context = scripted(pipeline_rules(
        triage=MODERATE, draft={"answer": "Dear team, ...", "confidence": "high"},
        judge={"score": 8, "reason": "Fine."}))
    result = run(context, "Write a short note to the team about the outage.")
    assert result["steps"] == ["triage", "draft", "judge", "respond"]
    assert result["escalated"] is False


def test_thresholds_come_from_the_context(scripted):
    from tierwise import Context

    rules = pipeline_rules(triage=SIMPLE, draft=GOOD_DRAFT, judge={"score": 8, "reason": "Good."})
    emulator, context = scripted(rules)
    strict = Context(base_url=emulator.base_url, draft_score_threshold=9)
    assert run(strict)["steps"][-2] == "polish"
    assert run(context)["steps"][-2] == "judge"  # registry default: 7


def test_unusable_triage_takes_the_cheap_path_never_pro(scripted):
    _, context = scripted(pipeline_rules(
        triage="I think this is about billing", draft=GOOD_DRAFT, judge={"score": 9, "reason": "ok"}))
    result = run(context)
    assert result["route"] == "simple"
    assert result["triage"].usable is False
    assert result["calls"][0].outcome == "unusable"
    assert all(c.tier != "pro" for c in result["calls"])


def test_ainvoke_batch_and_stream(scripted):
    _, context = scripted(pipeline_rules(triage=SIMPLE, draft=GOOD_DRAFT, judge={"score": 9, "reason": "ok"}))
    graph = build_graph()
    inputs = [{"input": f"Question {i}: was I charged twice?"} for i in range(3)]
    batch = graph.batch(inputs, context=context)
    assert [r["answer"] for r in batch] == [GOOD_DRAFT["answer"]] * 3
    result = asyncio.run(graph.ainvoke(inputs[0], context=context))
    assert result["steps"] == ["triage", "draft", "judge", "respond"]
    updates = [next(iter(chunk)) for chunk in graph.stream(inputs[0], context=context, stream_mode="updates")]
    assert updates == ["triage", "draft", "judge", "respond"]


def test_token_streaming_reports_the_node_and_bills_once(scripted):
    _, context = scripted(pipeline_rules(triage=COMPLEX, reason="Step one. Step two. Step three.", thoughts=10))
    graph = build_graph()
    chunks = list(graph.stream({"input": "Plan a migration."}, context=context, stream_mode=["messages", "values"]))
    nodes = {meta["langgraph_node"] for mode, (msg, meta) in (c for c in chunks if c[0] == "messages")}
    assert {"triage", "reason"} <= nodes
    final = [payload for mode, payload in chunks if mode == "values"][-1]
    reason = final["calls"][-1]
    assert reason.stage == "reason" and reason.thinking_tokens == 10
    assert final["answer"] == "Step one. Step two. Step three."
