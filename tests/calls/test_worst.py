"""The worst case an attempt is reserved at: every byte sent at the input rate, max_output_tokens (thinking
included) at the output rate, for the model and service tier that will run."""

from __future__ import annotations

from datetime import date

import pytest
from langchain_core.messages import AIMessage, ToolMessage
from pydantic import BaseModel

from tierwise import Context
from tierwise.calls.endpoint import Endpoint
from tierwise.calls.plan import CallPlan
from tierwise.calls.worst import TOKENS_PER_MESSAGE, prompt_token_bound, worst_case_usage, worst_case_usd
from tierwise.tiers import build_registry


def plan(stage: str, messages, **changes) -> CallPlan:
    registry = build_registry()
    return CallPlan(route=registry.stage(stage), registry=registry, endpoint=Endpoint("custom", "http://x", "k"),
                    messages=tuple(messages), context=Context(), hooks=(), **changes)


def test_one_token_per_byte_plus_the_turn_markers_and_max_output_tokens_at_the_output_rate():
    the_plan = plan("draft", [("human", "héllo")])  # é is two bytes in UTF-8
    usage = worst_case_usage(the_plan, the_plan.route)
    assert usage.input_tokens == 6 + TOKENS_PER_MESSAGE
    assert usage.output_tokens == the_plan.route.spec.max_output_tokens == 1024
    lite = the_plan.route.model.price_on(date.today())
    assert worst_case_usd(the_plan, the_plan.route) == pytest.approx(
        (6 + TOKENS_PER_MESSAGE) * lite.input / 1e6 + 1024 * lite.output / 1e6)


def test_the_schema_tools_and_earlier_tool_calls_count_as_input():
    class Answer(BaseModel):
        text: str

    bare = prompt_token_bound(plan("draft", [("human", "hi")]))
    assert prompt_token_bound(plan("draft", [("human", "hi")], schema=Answer)) > bare + 20
    turns = [("human", "hi"), AIMessage(content="", tool_calls=[{"name": "search", "args": {"q": "x" * 100},
                                                                "id": "1"}]),
             ToolMessage(content="found", tool_call_id="1")]
    assert prompt_token_bound(plan("draft", turns)) >= bare + 100 + len("found")


def test_a_long_prompt_on_pro_is_reserved_at_the_long_context_rates_and_priority_at_its_surcharge():

    long = plan("reason", [("human", "x" * 250_000)])
    pro = long.route.model.price_on(date.today())
    assert pro.long_context_threshold is not None and 250_000 > pro.long_context_threshold
    assert worst_case_usd(long, long.route) == pytest.approx(  # the whole request at the long-context rates
        (250_000 + TOKENS_PER_MESSAGE) * pro.long_input / 1e6 + 4096 * pro.long_output / 1e6)
    short = plan("reason", [("human", "x" * 1000)])
    priority = short.replace(service_tier="priority")
    assert worst_case_usd(priority, priority.route) > worst_case_usd(short, short.route)


def test_a_batch_api_attempt_is_reserved_at_batch_rates():
    from tierwise.tiers.pricing import batch_price

    standard = plan("draft", [("human", "hello")])
    batch = plan("draft", [("human", "hello")], processing="batch")
    usage = worst_case_usage(batch, batch.route)
    expected = batch_price(batch.route.model_id, batch.route.model, usage, date.today())
    assert worst_case_usd(batch, batch.route) == pytest.approx(expected)
    assert worst_case_usd(batch, batch.route) < worst_case_usd(standard, standard.route)
