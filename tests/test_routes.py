"""Every route of the graph, driven by scripted answers through the real Gemini client over loopback.

Under the default strategy (hybrid) the pre-router picks the route with no API call: its intent cues for the kind of
work (extract, moderate), its ladder for how hard; LLM triage is asked only in its uncertain band. Tests that script
LLM triage's answer to pick a route take the `llm_triage` fixture (strategy llm)."""

from __future__ import annotations

import asyncio

import pytest
from pipeline import TRIAGE, assert_calls_priced, pipeline_rules
from pydantic import BaseModel

from tierwise import build_graph

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
MODERATE = {"intent": "writing", "complexity": 3, "confidence": "medium"}
COMPLEX = {"intent": "analysis", "complexity": 5, "confidence": "high"}
EXTRACTION = {"intent": "extraction", "complexity": 2, "confidence": "high"}
GOOD_DRAFT = {"answer": "Yes: refund the duplicate charge today.", "confidence": "high"}
# Prompts the packaged pre-router is sure of (margin well above the registry's band): a question Lite answers, and a
# GSM8K word problem (tests/data/routing, gsm8k/897) it sends to Pro.
EASY = "What is the capital of France?"
WORD_PROBLEM = ("Joseph had 3 times as many notebooks as Martha. Martha decided she needed more notebooks and then "
                "bought 5 more for a total of 7 notebooks. How many more than Joseph does she now have?")
# Prompts inside its uncertain band: the ladder is torn, or an intent cue is unsure.
TORN = "Compare these three database designs and recommend one."
UNSURE_INTENT = "Find the city and the temperature: It was 31 degrees in Madrid this afternoon."


def run(context, text="My card was charged twice. Is this urgent?", **kwargs):
    return build_graph(**kwargs).invoke({"input": text}, context=context)


def stages(result):
    return [(c.stage, c.tier) for c in result["calls"]]


def triage_asked(emulator):
    return any(TRIAGE in r.system for r in emulator.requests)


def assert_priced(result):
    assert all(call.outcome == "ok" for call in result["calls"])
    assert_calls_priced(result)


def test_the_band_and_the_sure_prompts_are_where_these_tests_say():
    """The prompts below are chosen against the packaged router and the registry's band: say so if that moves."""
    from tierwise import load_registry
    from tierwise.routing import load_router
    from tierwise.routing.packaged import packaged_path

    settings = load_registry(None).data.router
    router = load_router(packaged_path())
    decide = {text: router.decide(text, settings.threshold) for text in (EASY, WORD_PROBLEM, TORN, UNSURE_INTENT)}
    assert decide[EASY].index == 0 and decide[EASY].margin > 2 * settings.hybrid_margin
    assert decide[WORD_PROBLEM].index == 1 and decide[WORD_PROBLEM].margin > 2 * settings.hybrid_margin
    assert decide[TORN].margin < settings.hybrid_margin / 2
    assert any(c.unsure_of(UNSURE_INTENT) for c in settings.intents)
    assert not any(c.sure_of(UNSURE_INTENT) for c in settings.intents)


def test_simple_route_passes_the_judge(scripted):
    emulator, context = scripted(pipeline_rules(
        triage=COMPLEX, draft=GOOD_DRAFT, judge={"score": 9, "reason": "Correct."}))  # LLM triage is not asked
    result = run(context, EASY)
    assert result["route"] == "simple" and result["triage"].source == "learned"
    assert result["steps"] == ["triage", "draft", "judge", "respond"]
    assert stages(result) == [("draft", "lite"), ("judge", "flash")]  # no triage call: no latency for routing
    assert not triage_asked(emulator)
    assert result["answer"] == GOOD_DRAFT["answer"]
    assert result["score"] == 9 and result["escalated"] is False
    assert [r.model for r in emulator.requests] == [c.model for c in result["calls"]]
    assert_priced(result)
    assert result["total_cost_usd"] < result["all_pro_cost_usd"] / 3  # nothing ran on Pro


def test_llm_triage_picks_the_simple_route(scripted, llm_triage):
    emulator, context = scripted(pipeline_rules(
        triage=SIMPLE, draft=GOOD_DRAFT, judge={"score": 9, "reason": "Correct."}))
    result = run(context)
    assert result["route"] == "simple" and result["triage"].source == "llm"
    assert result["steps"] == ["triage", "draft", "judge", "respond"]
    assert stages(result) == [("triage", "lite"), ("draft", "lite"), ("judge", "flash")]
    assert [r.model for r in emulator.requests] == [c.model for c in result["calls"]]
    assert_priced(result)


def test_simple_route_escalates_a_weak_draft_to_pro(scripted, llm_triage):
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
    # LLM triage would say "question": the pre-router's intent cue decides, and it is not asked
    emulator, context = scripted(pipeline_rules(triage=SIMPLE, extract=extracted, reason="Total: 120 EUR."))
    secret_line = "ACME internal reference 99-XYZ"
    result = run(context, f"Extract the amount from this invoice. {secret_line}. Amount due: 120 EUR.")
    assert result["route"] == "extract"
    assert result["triage"].intent == "extraction" and result["triage"].source == "learned"
    assert result["steps"] == ["triage", "extract", "reason", "respond"]
    assert stages(result) == [("extract", "lite"), ("reason", "pro")]
    assert not triage_asked(emulator)
    assert result["answer"] == "Total: 120 EUR."
    reason_request = emulator.requests[-1]
    assert "120 EUR" in reason_request.user and "Total the invoice." in reason_request.user
    assert secret_line not in reason_request.user  # Pro reads the checked JSON, not the raw text
    extract_request = emulator.requests[0]
    assert extract_request.json_schema is not None  # schema-strict structured output was requested
    assert_priced(result)


def test_extract_accepts_the_callers_own_schema(scripted):
    class Invoice(BaseModel):
        customer: str
        amount_eur: float

    emulator, context = scripted(pipeline_rules(
        triage=EXTRACTION, extract={"customer": "ACME", "amount_eur": 120.0}, reason="ACME owes 120 EUR."))
    result = run(context, "Extract the customer and amount: ACME, 120 EUR", extract_schema=Invoice)
    assert set(emulator.requests[0].json_schema["properties"]) == {"customer", "amount_eur"}
    assert '"customer": "ACME"' in emulator.requests[1].user
    assert result["answer"] == "ACME owes 120 EUR."


def test_an_unsure_intent_asks_llm_triage_which_picks_the_extract_route(scripted):
    extracted = {"task": "Report the weather.", "fields": [{"name": "city", "value": "Madrid"}]}
    emulator, context = scripted(pipeline_rules(triage=EXTRACTION, extract=extracted, reason="Madrid, 31 degrees."))
    result = run(context, UNSURE_INTENT)
    assert result["triage"].source == "llm" and result["route"] == "extract"
    assert stages(result) == [("triage", "lite"), ("extract", "lite"), ("reason", "pro")]
    assert_priced(result)


def test_a_torn_ladder_asks_llm_triage_which_picks_the_complex_route(scripted):
    emulator, context = scripted(pipeline_rules(triage=COMPLEX, reason="Option B, because ...", thoughts=300))
    result = run(context, TORN)
    assert result["triage"].source == "llm" and result["route"] == "complex"
    assert stages(result) == [("triage", "lite"), ("reason", "pro")]
    assert triage_asked(emulator)


def test_the_ladders_top_rung_goes_straight_to_pro(scripted):
    emulator, context = scripted(pipeline_rules(triage=SIMPLE, reason="Martha has 7, Joseph 6: one more.",
                                                thoughts=300))
    result = run(context, WORD_PROBLEM)
    assert result["route"] == "complex" and result["triage"].source == "learned"
    assert result["steps"] == ["triage", "reason", "respond"]
    assert stages(result) == [("reason", "pro")] and not triage_asked(emulator)
    assert result["calls"][-1].thinking_tokens == 300
    assert_priced(result)


@pytest.mark.parametrize("strategy", ["learned", "hybrid"])
def test_every_route_llm_triage_can_choose_the_pre_router_can_choose(scripted, tmp_path, strategy):
    (tmp_path / "tierwise.toml").write_text(f'[router]\nstrategy = "{strategy}"\n')
    _, context = scripted(pipeline_rules(triage=SIMPLE, draft=GOOD_DRAFT, judge={"score": 9, "reason": "ok"},
                                         extract={"task": "t", "fields": []}))
    graph = build_graph()
    routes = {graph.invoke({"input": text}, context=context)["route"] for text in (
        EASY, WORD_PROBLEM, "Extract the amount: 120 EUR due", "Write a short note to the team about the outage.")}
    assert routes == {"simple", "complex", "extract", "moderate"}


def test_llm_triage_sends_a_complex_request_straight_to_pro(scripted, llm_triage):
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
        triage=SIMPLE, draft={"answer": "Dear team, ...", "confidence": "low"}, polish="Dear team, (final)"))
    result = run(context, "Write a short note to the team about the outage.")  # a writing cue: no triage call
    assert result["route"] == "moderate" and result["triage"].intent == "writing"
    assert result["steps"] == ["triage", "draft", "polish", "respond"]  # no judge call: the draft said so
    assert stages(result) == [("draft", "lite"), ("polish", "pro")] and not triage_asked(emulator)
    assert result["escalated"] is True
    assert result["answer"] == "Dear team, (final)"
    assert_priced(result)


def test_llm_triage_picks_the_moderate_route(scripted, llm_triage):
    _, context = scripted(pipeline_rules(
        triage=MODERATE, draft={"answer": "Dear team, ...", "confidence": "low"}, polish="Dear team, (final)"))
    result = run(context, "Tell the team about the outage.")
    assert result["route"] == "moderate"
    assert stages(result) == [("triage", "lite"), ("draft", "lite"), ("polish", "pro")]


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
    assert run(strict, EASY)["steps"][-2] == "polish"
    assert run(context, EASY)["steps"][-2] == "judge"  # registry default: 7


def test_unusable_triage_takes_the_cheap_path_never_pro(scripted):
    _, context = scripted(pipeline_rules(
        triage="I think this is about billing", draft=GOOD_DRAFT, judge={"score": 9, "reason": "ok"}))
    result = run(context, TORN)  # inside the band: LLM triage is asked, and answers nonsense
    assert result["route"] == "simple"
    assert result["triage"].usable is False
    assert result["calls"][0].outcome == "unusable"
    assert all(c.tier != "pro" for c in result["calls"])


def test_ainvoke_batch_and_stream(scripted):
    _, context = scripted(pipeline_rules(triage=SIMPLE, draft=GOOD_DRAFT, judge={"score": 9, "reason": "ok"}))
    graph = build_graph()
    inputs = [{"input": f"{EASY} (question {i})"} for i in range(3)]
    batch = graph.batch(inputs, context=context)
    assert [r["answer"] for r in batch] == [GOOD_DRAFT["answer"]] * 3
    result = asyncio.run(graph.ainvoke(inputs[0], context=context))
    assert result["steps"] == ["triage", "draft", "judge", "respond"]
    updates = [next(iter(chunk)) for chunk in graph.stream(inputs[0], context=context, stream_mode="updates")]
    assert updates == ["triage", "draft", "judge", "respond"]


def test_token_streaming_reports_the_node_and_bills_once(scripted, llm_triage):
    _, context = scripted(pipeline_rules(triage=COMPLEX, reason="Step one. Step two. Step three.", thoughts=10))
    graph = build_graph()
    chunks = list(graph.stream({"input": "Plan a migration."}, context=context, stream_mode=["messages", "values"]))
    nodes = {meta["langgraph_node"] for mode, (msg, meta) in (c for c in chunks if c[0] == "messages")}
    assert {"triage", "reason"} <= nodes
    final = [payload for mode, payload in chunks if mode == "values"][-1]
    reason = final["calls"][-1]
    assert reason.stage == "reason" and reason.thinking_tokens == 10
    assert final["answer"] == "Step one. Step two. Step three."
