"""Shadow traffic: sampled calls re-run on a higher tier in the background, judged, recorded and capped apart."""

from __future__ import annotations

import asyncio
import time

import pytest

from tierwise import Context, call_stage
from tierwise.calls import acall_stage
from tierwise.ledger import open_ledger
from tierwise.prompts import render
from tierwise.reports import build_report
from tierwise.state import Draft

from .conftest import PRO, rules, shadow

SHADOW_ON = """
[shadow]
enabled = true
daily_usd = {cap}

[shadow.stages.draft]
rate = {rate}
tier = "pro"
task_types = {{ C = 0.0 }}
"""


def context_for(scripted, registry_file, *, cap=1.0, rate=1.0, **rule_options):
    emulator, context = scripted(rules(**rule_options))
    return emulator, Context(base_url=context.base_url, registry_path=registry_file(SHADOW_ON.format(cap=cap,
                                                                                                    rate=rate)))


def draft(context, kind, i=0):
    return call_stage("draft", render("draft", input=f"TYPE-{kind} question {i}"), schema=Draft, context=context,
                      task_type=kind, labels={"request_id": f"req-{kind}-{i}"})


def test_shadow_verdicts_follow_the_known_quality_gap(scripted, registry_file):
    _, context = context_for(scripted, registry_file)
    for i in range(3):
        assert draft(context, "A", i).value.answer == "RIGHT"
        assert draft(context, "B", i).value.answer == "WRONG"  # the user gets lite's answer, unchanged
    assert shadow.drain(30)
    with open_ledger(create=False) as ledger:
        pairs = ledger.shadow_pairs()
    verdicts = {(p.task_type, p.verdict) for p in pairs}
    assert len(pairs) == 6 and verdicts == {("A", "same"), ("B", "shadow_better")}
    b = next(p for p in pairs if p.task_type == "B")
    assert (b.base_tier, b.shadow_tier, b.base_score, b.shadow_score) == ("lite", "pro", 2, 9)
    assert b.quality_gap == pytest.approx(0.7) and b.request_id.startswith("req-B-")
    assert b.shadow_model == PRO and b.judge_tier == "flash" and b.shadow_cost_usd > b.base_cost_usd > 0
    assert shadow.stats() == {"scheduled": 6, "recorded": 6}


def test_shadow_spend_is_counted_apart_and_shown_apart(scripted, registry_file):
    _, context = context_for(scripted, registry_file)
    draft(context, "B")
    assert shadow.drain(30)
    with open_ledger(create=False) as ledger:
        entries, [pair] = ledger.entries(), ledger.shadow_pairs()
        spend, shadow_spend = ledger.spend(task_type="B"), ledger.shadow_spend()
    traffic = [e for e in entries if e.purpose is None]
    shadowed = [e for e in entries if e.purpose == "shadow"]
    assert [e.stage for e in traffic] == ["draft"] and sorted(e.stage for e in shadowed) == ["draft", "judge", "judge"]
    # The budget's counters hold the user's call only; the shadow counter holds the rest.
    assert spend.day_usd == pytest.approx(traffic[0].cost_usd) == pytest.approx(spend.task_day_usd)
    assert shadow_spend == pytest.approx(sum(e.cost_usd for e in shadowed))
    assert shadow_spend == pytest.approx(pair.shadow_cost_usd + pair.judge_cost_usd)
    report = build_report(entries)
    assert report.total.calls == 1 and report.by_purpose["shadow"].calls == 3
    assert report.to_dict()["by_purpose"]["shadow"]["cost_usd"] == pytest.approx(shadow_spend)


def test_the_daily_shadow_cap_stops_sampling(scripted, registry_file):
    _, context = context_for(scripted, registry_file, cap=0.0001)  # one sample costs more than this
    for i in range(4):
        draft(context, "B", i)
        assert shadow.drain(30)  # one at a time, so each sample sees the spend of the one before
    with open_ledger(create=False) as ledger:
        assert len(ledger.shadow_pairs()) == 1
        assert ledger.shadow_spend() > 0.0001
    assert shadow.stats() == {"scheduled": 4, "recorded": 1, "capped": 3}


def test_rates_per_task_type_and_no_shadow_of_shadow_or_eval_calls(scripted, registry_file):
    emulator, context = context_for(scripted, registry_file)
    draft(context, "C")  # the C rate is 0
    messages = render("draft", input="TYPE-B q")
    call_stage("draft", messages, schema=Draft, context=context, task_type="B", labels={"purpose": "eval"})
    call_stage("draft", messages, schema=Draft, context=context, task_type="B", tier="pro")  # already the target
    assert shadow.drain(30)
    assert shadow.stats() == {"skipped_not_higher": 1}  # the pro call: its answer is already on the target tier
    assert [r.model for r in emulator.requests] == ["gemini-3.5-flash-lite", "gemini-3.5-flash-lite", PRO]


def test_off_by_default(scripted):
    _, context = scripted(rules())
    draft(context, "B")
    assert shadow.drain(5) and shadow.stats() == {}


def test_shadow_never_delays_the_user(scripted, registry_file):
    _, context = context_for(scripted, registry_file, pro_delay_ms=2000)
    started = time.perf_counter()
    draft(context, "B")
    assert time.perf_counter() - started < 1.5  # the shadow call alone takes 2 s
    assert shadow.drain(30) and shadow.stats()["recorded"] == 1


def test_a_failing_shadow_call_never_reaches_the_user(scripted, registry_file):
    _, context = context_for(scripted, registry_file, pro_error=401)  # fatal: no retry, no fallback
    result = draft(context, "B")
    assert result.ok and result.value.answer == "WRONG"
    assert shadow.drain(30)
    assert shadow.stats() == {"scheduled": 1, "failed": 1}
    with open_ledger(create=False) as ledger:
        assert ledger.shadow_pairs() == []


def test_async_callers_get_an_asyncio_task(scripted, registry_file):
    _, context = context_for(scripted, registry_file, pro_delay_ms=2000)

    async def main():
        started = time.perf_counter()
        result = await acall_stage("draft", render("draft", input="TYPE-B q"), schema=Draft, context=context,
                                   task_type="B")
        waited = time.perf_counter() - started
        pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        assert await shadow.adrain(30)
        return result, waited, pending

    result, waited, pending = asyncio.run(main())
    assert result.value.answer == "WRONG" and waited < 1.5
    assert [t.get_coro().__name__ for t in pending].count("_adrive") == 1  # a task on the caller's loop
    with open_ledger(create=False) as ledger:
        [pair] = ledger.shadow_pairs()
    assert pair.verdict == "shadow_better"


def test_busy_samples_are_skipped_not_queued(scripted, registry_file):
    emulator, context = scripted(rules(pro_delay_ms=300))
    text = SHADOW_ON.format(cap=1.0, rate=1.0).replace("daily_usd = 1.0", "daily_usd = 1.0\nmax_in_flight = 1")
    context = Context(base_url=context.base_url, registry_path=registry_file(text))
    for i in range(3):
        draft(context, "B", i)
    assert shadow.drain(30)
    assert shadow.stats() == {"scheduled": 1, "recorded": 1, "skipped_busy": 2}


@pytest.mark.parametrize(("text", "message"), [
    ('[shadow.stages.drafts]\nrate = 0.1', "shadow.stages.drafts: unknown stage 'drafts'"),
    ('[shadow.stages.draft]\ntier = "ultra"', "shadow.stages.draft: unknown tier 'ultra'"),
    ('[shadow.stages.draft]\nrate = 1.5', "shadow.stages.draft.rate"),
    ('[shadow.stages.draft]\ntask_types = { A = 2.0 }', "rates must be within 0..1"),
    ('[shadow]\njudge_tier = "ultra"', "shadow.judge_stage: unknown tier 'ultra'"),
])
def test_bad_shadow_settings_name_the_key(registry_file, text, message):
    from tierwise.errors import RegistryError
    from tierwise.tiers import build_registry

    with pytest.raises(RegistryError, match=message):
        build_registry(registry_file(text))
