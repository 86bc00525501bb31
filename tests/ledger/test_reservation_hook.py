"""Reservations through the real call path (real client, scripted emulator): each attempt holds its worst case
before it goes out and settles to its real cost when recorded; a call that cannot fit never reaches the model."""

from __future__ import annotations

import asyncio

import pytest

from tierwise import acall_stage, call_stage
from tierwise.budget import BudgetExceededError
from tierwise.calls.worst import worst_case_usd
from tierwise.emulator import Fault
from tierwise.ledger import open_ledger
from tierwise.tiers import load_registry

LITE = "gemini-3.5-flash-lite"


@pytest.fixture(autouse=True)
def _ledger_here(monkeypatch, tmp_path):
    monkeypatch.setenv("TIERWISE_LEDGER_URL", f"sqlite:///{tmp_path}/ledger.db")


def caps(tmp_path, text: str) -> None:
    (tmp_path / "tierwise.toml").write_text(f"[resilience]\nbase_delay_s = 0.01\nmax_delay_s = 0.02\n{text}")


def spend(tmp_path):
    with open_ledger(f"sqlite:///{tmp_path}/ledger.db") as ledger:
        return ledger.spend(), ledger.entries()


def draft_worst(context) -> float:
    """What a draft of "hello" may cost at most (its model's prices and max_output_tokens, from the registry)."""
    from tierwise.calls.api import build_plan
    from tierwise.runtime import reset_default_runtime

    plan = build_plan("draft", "hello", None, None, context, None, None)
    reset_default_runtime()  # the caps written next are read by the call
    return worst_case_usd(plan, plan.route)


def test_a_call_whose_worst_case_exceeds_the_hard_cap_never_goes_out(scripted, tmp_path):
    emulator, context = scripted([{"reply": "fine"}])
    worst = draft_worst(context)
    caps(tmp_path, f"[budget]\nhard_daily_usd = {worst * 0.9}\n")
    with pytest.raises(BudgetExceededError, match=r"hard daily cap \$.* would be exceeded: \$0.00 spent today .* "
                       rf"may cost up to \${worst:.6f}") as refused:
        call_stage("draft", "hello", context=context)
    assert refused.value.cap == "hard_daily_usd"
    assert emulator.requests == []  # refused before any request, so before any spend


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_every_attempt_is_reserved_then_settled_to_its_real_cost(scripted, tmp_path, mode):
    caps(tmp_path, "[budget]\nhard_daily_usd = 1.0\ndaily_usd = 0.5\n")
    emulator, context = scripted([{"reply": "fine"}], [Fault("unavailable", model=LITE, times=2)])
    if mode == "sync":
        result = call_stage("draft", "hello", context=context)
    else:
        result = asyncio.run(acall_stage("draft", "hello", context=context))
    assert [r.outcome for r in result.records] == ["error", "error", "ok"]
    now, stored = spend(tmp_path)
    assert now.reserved_day_usd == 0.0 and now.reserved_month_usd == 0.0  # nothing left held
    assert now.day_usd == pytest.approx(sum(r.cost_usd for r in result.records))
    assert sorted(e.call_id for e in stored) == sorted(r.call_id for r in result.records)


def test_a_failed_call_leaves_nothing_reserved(scripted, tmp_path):
    caps(tmp_path, "[budget]\nhard_daily_usd = 1.0\n")
    emulator, context = scripted([{"reply": "fine"}], [Fault("unavailable")])
    with pytest.raises(Exception):  # noqa: B017 - every model fails: a ModelCallError
        call_stage("draft", "hello", context=context)
    now, stored = spend(tmp_path)
    assert now.reserved_day_usd == 0.0 and len(stored) == len(emulator.requests) > 0


def test_the_worst_case_bounds_what_a_call_is_billed(scripted, tmp_path):
    """The reservation is an upper bound of the real cost, with thinking included (billed as output)."""
    caps(tmp_path, "[budget]\nhard_daily_usd = 1.0\n[stages.reason]\nmax_output_tokens = 200\n")
    emulator, context = scripted([{"reply": "x " * 60, "thoughts": 120}])
    result = call_stage("reason", "why " * 50, context=context)
    record = result.record
    assert record.thinking_tokens == 120 and record.output_tokens <= 200
    from tierwise.calls.api import build_plan

    plan = build_plan("reason", "why " * 50, None, None, context, None, None)
    assert record.cost_usd <= worst_case_usd(plan, plan.route)
    assert load_registry().stage("reason").spec.max_output_tokens == 200


def test_a_cap_that_refuses_a_later_attempt_keeps_the_billed_ones_in_the_error(scripted, tmp_path):
    """The first attempt fits and is billed (it thought, then said nothing); the retry on the same model no longer
    fits under the cap, so it is refused before it is sent."""
    emulator, context = scripted([{"reply": "", "thoughts": 50}])
    worst = draft_worst(context)
    caps(tmp_path, f"[budget]\nhard_daily_usd = {worst * (1 + 1e-6)}\n")  # room for one worst case, no more
    with pytest.raises(BudgetExceededError) as refused:
        call_stage("draft", "hello", context=context)
    assert [r.error_kind for r in refused.value.records] == ["empty"] and refused.value.records[0].cost_usd > 0
    assert len(emulator.requests) == 1
    now, stored = spend(tmp_path)
    assert now.day_usd == pytest.approx(refused.value.records[0].cost_usd) and now.day_usd <= worst
    assert now.reserved_day_usd == 0.0 and [e.call_id for e in stored] == [refused.value.records[0].call_id]


def seen_needs(tmp_path, tokens: int, samples: int = 25) -> None:
    """The stage's history: `samples` good drafts of `tokens` output tokens each, recorded yesterday (today's spend
    is untouched), which is what fitting near a cap reads."""
    from datetime import UTC, datetime, timedelta

    from tierwise.ledger import LedgerEntry

    with open_ledger(f"sqlite:///{tmp_path}/ledger.db") as ledger:
        for n in range(samples):
            ledger.record(LedgerEntry(call_id=f"past-{n}", stage="draft", tier="lite", model=LITE, output_tokens=tokens,
                                      started_at=datetime.now(UTC) - timedelta(days=1), cost_usd=0.0001))


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_near_the_cap_an_attempt_runs_with_the_output_limit_what_is_left_pays_for(scripted, tmp_path, mode):
    """The full worst case no longer fits under the cap, but what the stage has been seen to need does: the
    attempt goes out with a lower maxOutputTokens (its reservation is still its true worst case), not refused."""
    emulator, context = scripted([{"reply": "fine"}])
    worst = draft_worst(context)
    seen_needs(tmp_path, tokens=40)
    caps(tmp_path, f"[budget]\nhard_daily_usd = {worst * 0.5}\n")
    result = call_stage("draft", "hello", context=context) if mode == "sync" else asyncio.run(
        acall_stage("draft", "hello", context=context))
    assert result.value == "fine"
    [request] = emulator.requests
    stage_limit = load_registry().settings_for(load_registry().stage("draft")).max_output_tokens
    assert 60 <= request.max_output_tokens < stage_limit  # at least 1.5 x the 40 seen; less than the stage's own
    totals, _ = spend(tmp_path)
    assert totals.reserved_day_usd == 0.0 and totals.day_usd <= worst * 0.5


def test_fitting_stops_at_what_the_stage_needs_and_can_be_turned_off(scripted, tmp_path):
    emulator, context = scripted([{"reply": "fine"}])
    worst = draft_worst(context)
    seen_needs(tmp_path, tokens=900)  # needs most of its 1024: what is left under the cap cannot pay for that
    caps(tmp_path, f"[budget]\nhard_daily_usd = {worst * 0.5}\n")
    with pytest.raises(BudgetExceededError, match="would be exceeded"):
        call_stage("draft", "hello", context=context)
    seen_needs(tmp_path, tokens=40, samples=600)  # the latest answers are short again
    caps(tmp_path, f"[budget]\nhard_daily_usd = {worst * 0.5}\nfit_output_near_cap = false\n")
    from tierwise.runtime import reset_default_runtime

    reset_default_runtime()  # the registry edit is read by the next call's runtime
    with pytest.raises(BudgetExceededError, match="would be exceeded"):  # off: the whole worst case or nothing
        call_stage("draft", "hello", context=context)
    assert emulator.requests == []
