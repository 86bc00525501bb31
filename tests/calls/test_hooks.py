"""The hook interface through the real call path (real client, scripted emulator): every point runs in order, sync
and async; a hook can change the plan or refuse before any call; users can replace the defaults."""

from __future__ import annotations

import asyncio

import pytest

from tierwise import call_stage
from tierwise.calls import CallHook, hooks
from tierwise.errors import TierwiseError


class Recorder(CallHook):
    name = "recorder"

    def __init__(self) -> None:
        self.points: list[str] = []

    def before_call(self, plan):
        self.points.append("before_call")
        return plan

    def before_attempt(self, plan, candidate, attempts):
        self.points.append(f"before_attempt:{candidate.model_id}")

    def after_attempt(self, plan, record, attempts):
        self.points.append(f"after_attempt:{record.outcome}")

    def after_success(self, plan, result):
        self.points.append("after_success")

    def after_call(self, plan, attempts, result, error):
        self.points.append(f"after_call:{'ok' if error is None else type(error).__name__}")


@pytest.fixture
def installed():
    added = []

    def install(hook):
        added.append(hooks.install(hook))
        return hook

    yield install
    for hook in added:
        hooks.uninstall(hook.name)


def test_points_run_in_order_sync_and_async(scripted, installed):
    recorder = installed(Recorder())
    _, context = scripted([{"reply": "fine"}])
    call_stage("draft", "hello", context=context)
    expected = ["before_call", "before_attempt:gemini-3.5-flash-lite", "after_attempt:ok", "after_success",
                "after_call:ok"]
    assert recorder.points == expected
    recorder.points.clear()
    from tierwise import acall_stage

    asyncio.run(acall_stage("draft", "hello", context=context))
    assert recorder.points == expected


def test_a_hook_can_change_the_plan(scripted, installed):
    class Upgrade(CallHook):
        name = "upgrade"

        def before_call(self, plan):
            return plan.replace(route=plan.registry.on_tier(plan.stage, "pro"))

    installed(Upgrade())
    _, context = scripted([{"reply": "fine"}])
    result = call_stage("draft", "hello", context=context)
    assert result.record.model == "gemini-3.1-pro-preview"


def test_a_hook_that_refuses_stops_the_call_before_any_model_call(scripted, installed):
    class Refuse(CallHook):
        name = "refuse"

        def before_call(self, plan):
            raise TierwiseError("no calls today")

    recorder = installed(Recorder())
    installed(Refuse())
    emulator, context = scripted([{"reply": "fine"}])
    with pytest.raises(TierwiseError, match="no calls today"):
        call_stage("draft", "hello", context=context)
    assert emulator.requests == [] if hasattr(emulator, "requests") else True
    assert recorder.points == ["before_call", "after_call:TierwiseError"]  # after_call always runs


def test_the_defaults_are_installed_and_replaceable(scripted):
    names = [h.name for h in hooks.installed()]
    assert names[:2] == ["ledger", "shadow"]
    previous = hooks.replace_all([])
    try:
        _, context = scripted([{"reply": "fine"}])
        assert call_stage("draft", "hello", context=context).value == "fine"  # no ledger, still answered
    finally:
        hooks.replace_all(previous)


def test_only_call_hooks_can_be_installed():
    with pytest.raises(TypeError, match="CallHook"):
        hooks.install(object())  # type: ignore[arg-type]
