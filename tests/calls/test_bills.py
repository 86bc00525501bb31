"""Exact bills: what Google bills per request, through the real client and the strict emulator, checked against
genai-prices' own arithmetic (audio rates, grounding queries, long context per request, service-tier prices,
the UTC day)."""

from __future__ import annotations

import base64
import io
import wave
from datetime import UTC, date, datetime

import pytest
from langchain_core.messages import HumanMessage

from tierwise import Context, Runtime, call_stage
from tierwise.calls import CallHook
from tierwise.emulator import Emulator, ScriptedBackend
from tierwise.tiers import ModelSpec, Price, StageModel, Usage, list_prices, load_registry, price
from tierwise.tiers.pricing import price_source, today

LITE_31, PRO = "gemini-3.1-flash-lite", "gemini-3.1-pro-preview"


class RunOn(CallHook):
    """Run the call on one model, no fallbacks."""

    name = "test-bills-run-on"

    def __init__(self, model_id: str) -> None:
        self.model_id = model_id

    def before_call(self, plan):
        spec = plan.registry.model(self.model_id)
        route = StageModel(plan.stage, plan.route.spec, spec.tier or plan.route.tier, self.model_id, spec)
        return plan.replace(route=route, stay_on_tier=True)


def _run(rules, stage, messages, model_id=None, **kwargs):
    with Runtime(hooks=[RunOn(model_id)] if model_id else []) as rt, Emulator(ScriptedBackend(rules)) as emu:
        result = call_stage(stage, messages, context=Context(base_url=emu.base_url), runtime=rt, **kwargs)
        return result, emu.requests


def _wav(seconds: int) -> str:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\0\0" * 8000 * seconds)
    return base64.b64encode(buf.getvalue()).decode()


def test_audio_input_is_billed_at_the_audio_rate_as_genai_prices_does():
    """LangChain reports audio tokens as plain input; the response body says AUDIO (promptTokensDetails): the
    bill uses genai-prices' audio rate ($0.50/1M on 3.1 Flash-Lite, text $0.25/1M)."""
    seconds = 3125  # 32 tokens a second: 100,000 audio tokens
    message = HumanMessage(content=[{"type": "text", "text": "Transcribe this"},
                                    {"type": "audio", "base64": _wav(seconds), "mime_type": "audio/wav"}])
    result, requests = _run([{"reply": "hello"}], "draft", [message], LITE_31)
    record = result.record
    assert requests[-1].media_tokens == {"AUDIO": 100_000}
    expected = list_prices.calc(LITE_31, record.input_tokens, record.output_tokens, 0, today(), audio_tokens=100_000)
    assert record.cost_usd == pytest.approx(float(expected), rel=1e-9)
    text_rate_bill = list_prices.calc(LITE_31, record.input_tokens, record.output_tokens, 0, today())
    assert record.cost_usd > float(text_rate_bill) * 1.9  # the bug: audio at the text rate, about half


def test_grounding_queries_are_billed_per_query_when_a_search_tool_is_bound():
    """Gemini 3 bills each Google Search query the model ran (genai-prices: $14 per 1,000 web searches)."""
    rules = [{"reply": "It rained.", "searches": ["weather paris", "paris rain"]}]
    bound, _ = _run(rules, "agent_step", "Did it rain in Paris?", "gemini-3.8-flash", tools=[{"google_search": {}}])
    unbound, _ = _run(rules, "agent_step", "Did it rain in Paris?", "gemini-3.8-flash")
    searches = 2 * load_registry().model("gemini-3.8-flash").price_on(today()).search_per_1k / 1000
    assert searches == pytest.approx(0.028)
    assert bound.record.cost_usd - unbound.record.cost_usd == pytest.approx(searches, rel=1e-6)


def test_long_context_is_priced_per_request_never_per_summed_continuation_hops():
    """google-genai follows continuationToken hops itself and LangChain sums their usage: two 110k-token
    requests report 220k input, over Pro's 200k line that neither request crossed."""
    prompt = "word " * 110_000
    result, requests = _run([{"reply": "one two three four five six", "hops": 2}], "reason", prompt)
    assert len(requests) == 2 and requests[1].continuation_token
    record = result.record
    per_request = record.input_tokens // 2
    assert 100_000 < per_request < 200_000 < record.input_tokens
    day = today()
    expected = 2 * list_prices.calc(PRO, per_request, 0, 0, day) + list_prices.calc(PRO, 0, record.output_tokens,
                                                                                   0, day)
    assert record.cost_usd == pytest.approx(float(expected), rel=1e-9)
    summed = list_prices.calc(PRO, record.input_tokens, record.output_tokens, 0, day)
    assert record.cost_usd < float(summed) * 0.6  # what the summed usage would have been billed


def test_streamed_hops_are_read_and_billed_too():
    """The response hook tees SSE bodies as the client reads them: a streamed call is billed per request too."""
    import asyncio

    from tierwise import acall_stage

    prompt = "word " * 110_000
    with Emulator(ScriptedBackend([{"reply": "one two three four five six", "hops": 2}])) as emu:
        result = asyncio.run(acall_stage("reason", prompt, context=Context(base_url=emu.base_url)))
    per_request = result.record.input_tokens // 2
    expected = (2 * list_prices.calc(PRO, per_request, 0, 0, today())
                + list_prices.calc(PRO, 0, result.record.output_tokens, 0, today()))
    assert result.record.cost_usd == pytest.approx(float(expected), rel=1e-9)


def test_service_tier_prices_come_from_genai_prices_where_it_lists_them():
    """genai-prices lists flex/priority prices for some models (price_variants with service_tier): billed as
    listed, with their source; elsewhere the registry's multiplier, and the source says so."""
    from genai_prices.types import Usage as GpUsage

    model_id = "gemini-3.8-flash-tts"  # lists priority and flex prices
    spec = ModelSpec(context_window=8192, prices=[Price.model_validate(e) for e in list_prices.entries(model_id)])
    day = date(2026, 11, 2)
    usage = Usage(input_tokens=10_000, output_tokens=2_000)
    snapshot = list_prices._snapshot()
    provider, info = snapshot.find_provider_model(model_id, None, "google", None)
    for tier in ("priority", "flex"):
        listed = info.calc_price(GpUsage(input_tokens=10_000, output_tokens=2_000), provider,
                                 genai_request_timestamp=datetime(2026, 11, 2, 12, tzinfo=UTC),
                                 price_context={"service_tier": tier}).total_price
        assert price(spec, usage, day, service_tier=tier) == pytest.approx(float(listed), rel=1e-9)
        assert price_source(spec, day, tier).startswith("genai-prices")
    flash = load_registry().model("gemini-3.8-flash")
    factor = load_registry().data.service_tiers["priority"]
    assert price(flash, usage, day, service_tier="priority") == pytest.approx(
        price(flash, usage, day) * factor, rel=1e-9)
    assert "registry [service_tiers].priority" in price_source(flash, day, "priority")


def test_prices_are_read_on_the_utc_day_whatever_the_local_zone(monkeypatch):
    """At 23:30 UTC on 2026-12-31 it is already 2027 in Kiribati (UTC+14), when gemini-3.8-flash doubles: the
    bill, the worst case a cap reserves and the ledger's day all use the UTC date."""
    import time

    from tierwise.calls import billing, worst

    instant = datetime(2026, 12, 31, 23, 30, tzinfo=UTC)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return instant if tz is not None else instant.astimezone().replace(tzinfo=None)

    monkeypatch.setenv("TZ", "Pacific/Kiritimati")
    time.tzset()
    try:
        monkeypatch.setattr(billing, "datetime", Frozen)
        monkeypatch.setattr("tierwise.tiers.pricing.datetime", Frozen)
        assert today() == date(2026, 12, 31)
        result, _ = _run([{"reply": "fine"}], "judge", "Score this.", "gemini-3.8-flash")
        record = result.record
        assert record.started_at == instant
        flash = load_registry().model("gemini-3.8-flash")
        usage = Usage(record.input_tokens, record.output_tokens, record.thinking_tokens)
        assert record.cost_usd == pytest.approx(price(flash, usage, date(2026, 12, 31)), rel=1e-9)
        assert record.cost_usd < price(flash, usage, date(2027, 1, 1))
        assert worst.today is today  # the reservation reads the same clock
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_gemini_2_5_grounding_is_billed_per_grounded_prompt():
    """Google's pricing page: Gemini 3 bills each search query ($14/1,000), Gemini 2.5 each grounded prompt
    ($35/1,000), however many queries it ran."""
    rules = [{"reply": "It rained.", "searches": ["weather paris", "paris rain", "paris forecast"]}]
    day = today()
    bound, _ = _run(rules, "agent_step", "Did it rain?", "gemini-2.5-flash", tools=[{"google_search": {}}])
    unbound, _ = _run(rules, "agent_step", "Did it rain?", "gemini-2.5-flash")
    per_prompt = load_registry().model("gemini-2.5-flash").price_on(day).search_per_1k / 1000
    assert per_prompt == pytest.approx(0.035)
    assert bound.record.cost_usd - unbound.record.cost_usd == pytest.approx(per_prompt, rel=1e-6)
