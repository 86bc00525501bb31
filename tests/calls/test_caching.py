"""Explicit context caches in the one call path: made where the break-even says they pay, one per model and prefix,
read by every stage call that repeats the prefix, deleted when done; creation, storage and reads priced."""

from __future__ import annotations

import asyncio

import pytest

from tierwise.calls import ExplicitCaches, acall_stage, caching
from tierwise.errors import InvalidInputError
from tierwise.runtime import default_runtime
from tierwise.tiers import Usage, load_registry, price

DOCUMENT = "Clause: refunds are due within 30 days of purchase. " * 600  # ~7,800 tokens
SYSTEM = "Answer questions about the contract."
RULES = [{"model": "gemini-3.5-flash-lite", "user": "Question 3", "error": 400, "times": 1},
         {"system": "contract", "user": "Question (?P<n>\\d+)", "reply": "Answer $n."}]


def _messages(n: int) -> list:
    return [("system", SYSTEM), ("human", DOCUMENT), ("human", f"Question {n}: when are refunds due?")]


async def _ask(context, caches, questions, stage="draft"):
    with caching(caches):
        results = await asyncio.gather(*(acall_stage(stage, _messages(n), context=context, cache_prefix=2)
                                         for n in range(questions)))
    await caches.aclose()
    return results


def test_a_prefix_read_by_enough_calls_is_cached_once_per_model(scripted):
    emulator, context = scripted(RULES)
    registry = load_registry()
    rt = default_runtime()
    guard = rt.spend_guard(rt.registry_for(context))
    caches = ExplicitCaches.for_runtime(rt, context, expected_reuses=20, record=guard.after_call)
    results = asyncio.run(_ask(context, caches, 20))
    assert [r.value for r in results] == [f"Answer {n}." for n in range(20)]
    # draft runs on 3.5 Flash-Lite; question 3's 400 moved it to its fallback 3.1 Flash-Lite, which got its own
    # cache (a cache is per model: the fallback could not read the first one)
    assert sorted(d.model for d in caches.decisions if d.created) == ["gemini-3.1-flash-lite",
                                                                       "gemini-3.5-flash-lite"]
    assert len(emulator.caches.created) == 2 and emulator.caches.reads == 21  # 20 answers and the refused one
    main = next(d for d in caches.decisions if d.model == "gemini-3.5-flash-lite")
    assert main.break_even is not None and main.break_even < 20 and main.tokens >= 4096
    for result in results:
        ok = result.records[-1]
        assert ok.cached_tokens >= 4096  # the document was read from the cache
        spec = registry.model(ok.model)
        usage = Usage(ok.input_tokens, ok.output_tokens, ok.thinking_tokens, ok.cached_tokens)
        assert ok.cost_usd == pytest.approx(price(spec, usage, ok.started_at.date()))
        assert ok.cost_usd < price(spec, Usage(ok.input_tokens, ok.output_tokens), ok.started_at.date())
    assert {r.cache for r in caches.records} == {"create", "storage"} and len(caches.records) == 4
    assert emulator.caches.list_caches(None, None)["cachedContents"] == []  # deleted when done
    stored = guard.ledger.entries()
    assert sorted(e.extra.get("cache") for e in stored if e.extra.get("cache")) == ["create", "create", "storage",
                                                                                    "storage"]


def test_too_few_reuses_make_no_cache_and_say_why(scripted):
    emulator, context = scripted(RULES[1:])
    caches = ExplicitCaches.for_runtime(default_runtime(), context, expected_reuses=2)
    results = asyncio.run(_ask(context, caches, 2))
    assert all(r.records[-1].cached_tokens == 0 for r in results)
    assert emulator.caches.created == []
    (decision,) = caches.decisions
    assert not decision.created and "pays past" in decision.reason and "2 expected" in decision.reason


def test_cache_prefix_is_checked_before_any_call(scripted):
    _, context = scripted(RULES[1:])
    with pytest.raises(InvalidInputError, match="cache_prefix"):
        asyncio.run(acall_stage("draft", _messages(1), context=context, cache_prefix=9))
