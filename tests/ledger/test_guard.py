"""The spend guard: soft caps move non-critical stages to the cheapest tier, hard caps refuse new calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from tierwise.budget import BudgetExceededError, SpendGuard
from tierwise.errors import RegistryError, TierwiseError
from tierwise.ledger import open_ledger

from .factory import record, registry


@pytest.fixture
def spend_on(sqlite_url):
    """spend_on(budget, *costs, task_type=None) → a guard whose ledger already holds calls costing `costs`."""
    opened = []

    def make(budget, *costs, task_type=None, at=None):
        ledger = open_ledger(sqlite_url)
        opened.append(ledger)
        guard = SpendGuard(ledger, registry(budget))
        for c in costs:
            guard.after_call(record(c, task_type=task_type, started_at=at))
        return guard

    yield make
    for ledger in opened:
        ledger.close()


def test_no_caps_changes_nothing_and_reads_nothing(spend_on):
    guard = spend_on({}, 100.0)
    decision = guard.before_call(guard.registry.stage("judge"))
    assert not decision.changed and decision.spend is None
    assert decision.stage_model.model_id == "gemini-3.8-flash"


def test_under_the_soft_cap_nothing_changes(spend_on):
    guard = spend_on({"daily_usd": 1.0}, 0.4, 0.5)
    decision = guard.before_call(guard.registry.stage("judge"))
    assert not decision.changed and decision.reason is None
    assert decision.spend.day_usd == pytest.approx(0.9)


def test_soft_daily_cap_moves_non_critical_stages_to_the_cheapest_tier(spend_on):
    guard = spend_on({"daily_usd": 1.0}, 0.6, 0.4)
    judge = guard.before_call(guard.registry.stage("judge"))
    assert judge.downgraded and judge.stage_model.tier == "lite"
    assert judge.stage_model.model_id == "gemini-3.5-flash-lite" and judge.stage_model.stage == "judge"
    assert judge.reason == "soft daily cap $1.00 reached: $1.00 spent today (UTC)"
    assert judge.metadata()["tierwise_downgraded_from"] == "flash"
    draft = guard.before_call(guard.registry.stage("draft"))  # already on the cheapest tier
    assert not draft.changed and draft.reason


@pytest.mark.parametrize("stage", ["reason", "polish"])
def test_critical_stages_are_never_touched(spend_on, stage):
    guard = spend_on({"daily_usd": 0.5, "monthly_usd": 0.5, "service_tier_when_capped": "flex"}, 5.0)
    decision = guard.before_call(guard.registry.stage(stage))
    assert not decision.changed
    assert decision.stage_model.tier == "pro" and decision.service_tier == "standard"


def test_service_tier_when_capped_with_and_without_the_tier_downgrade(spend_on):
    guard = spend_on({"daily_usd": 0.5, "service_tier_when_capped": "flex"}, 1.0)
    decision = guard.before_call(guard.registry.stage("judge"))
    assert decision.downgraded and decision.service_tier == "flex"
    guard = spend_on({"daily_usd": 0.5, "service_tier_when_capped": "flex", "downgrade_when_capped": False})
    decision = guard.before_call(guard.registry.stage("judge"))
    assert not decision.downgraded and decision.service_tier == "flex" and decision.changed


def test_soft_monthly_cap(spend_on):
    earlier = datetime.now(UTC).replace(day=1, hour=0, minute=0)
    guard = spend_on({"monthly_usd": 2.0, "daily_usd": 100.0}, 2.5, at=earlier)
    decision = guard.before_call(guard.registry.stage("judge"), at=earlier + timedelta(minutes=1))
    assert decision.downgraded and decision.reason.startswith("soft monthly cap $2.00 reached: $2.50")


def test_per_task_type_caps_only_touch_that_task_type(spend_on):
    guard = spend_on({"per_task_type": {"support": 0.3}}, 0.2, 0.2, task_type="support")
    assert guard.before_call(guard.registry.stage("judge"), "support").downgraded
    assert not guard.before_call(guard.registry.stage("judge"), "billing").changed
    assert not guard.before_call(guard.registry.stage("judge")).changed


def test_hard_daily_cap_refuses_every_stage_and_names_the_cap(spend_on):
    guard = spend_on({"hard_daily_usd": 10.0}, 6.0, 4.02)
    for stage in ("triage", "reason"):
        with pytest.raises(BudgetExceededError) as err:
            guard.before_call(guard.registry.stage(stage))
        assert isinstance(err.value, TierwiseError)
        today = datetime.now(UTC).date().isoformat()
        assert str(err.value).startswith(f"hard daily cap $10.00 reached: $10.02 spent today ({today} UTC)")
        assert "budget.hard_daily_usd" in str(err.value)
        assert (err.value.cap, err.value.limit_usd, err.value.spent_usd) == ("hard_daily_usd", 10.0, 10.02)


def test_hard_monthly_cap(spend_on):
    guard = spend_on({"hard_monthly_usd": 1.0}, 1.5)
    with pytest.raises(BudgetExceededError, match=r"^hard monthly cap \$1.00 reached: \$1.50 spent this month"):
        guard.before_call(guard.registry.stage("draft"))


def test_a_soft_cap_alone_never_refuses(spend_on):
    guard = spend_on({"daily_usd": 1.0}, 50.0)
    assert guard.before_call(guard.registry.stage("reason")).stage_model.tier == "pro"


def test_after_call_records_what_the_guard_did(spend_on):
    guard = spend_on({"daily_usd": 0.1, "service_tier_when_capped": "flex"}, 0.2)
    decision = guard.before_call(guard.registry.stage("judge"), "support")
    spend = guard.after_call(record(0.01, stage="judge", tier=decision.stage_model.tier, task_type="support"),
                             decision, route="simple", escalated=False, request_id="r1")
    assert spend.day_usd == pytest.approx(0.21) and spend.task_day_usd == pytest.approx(0.01)
    stored = [e for e in guard.ledger.entries() if e.stage == "judge"]
    assert [(e.downgraded_from, e.service_tier, e.route, e.request_id) for e in stored] == [
        ("flash", "flex", "simple", "r1")
    ]


def test_async_variants(spend_on):
    guard = spend_on({"hard_daily_usd": 0.05})

    async def go():
        decision = await guard.abefore_call(guard.registry.stage("draft"))
        await guard.aafter_call(record(0.06), decision)
        with pytest.raises(BudgetExceededError):
            await guard.abefore_call(guard.registry.stage("draft"))

    asyncio.run(go())


def test_a_runtimes_pool_uses_the_configured_ledger(tmp_path, monkeypatch):
    from tierwise.budget import spend_guard
    from tierwise.ledger import LedgerPool

    monkeypatch.delenv("TIERWISE_LEDGER_URL", raising=False)
    reg = registry({"hard_daily_usd": 1.0}, ledger={"url": f"sqlite:///{tmp_path / 'configured.db'}"})
    pool = LedgerPool()
    guard = spend_guard(pool, reg)
    guard.after_call(record(2.0))
    assert spend_guard(pool, reg) is guard  # one guard per registry per runtime
    assert guard.ledger is pool.ledger(pool.resolve(reg))  # one open ledger per URL
    assert (tmp_path / "configured.db").is_file()
    with pytest.raises(BudgetExceededError):
        guard.before_call(reg.stage("draft"))


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({"daily_usd": -1}, "budget.daily_usd: Input should be greater than 0"),
        ({"service_tier_when_capped": "cheap"}, "budget.service_tier_when_capped: unknown service tier 'cheap'"),
        ({"per_task_type": {"support": 0}}, "budget.per_task_type.support: Input should be greater than 0"),
        ({"dailyusd": 5}, "budget.dailyusd: Extra inputs are not permitted"),
    ],
)
def test_bad_budget_config_names_the_key(budget, message):
    with pytest.raises(RegistryError, match=message):
        registry(budget)
