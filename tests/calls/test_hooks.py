"""The hook interface through the real call path (real client, scripted emulator): every point runs in order, sync
and async; a hook can change the plan or refuse before any call; users can replace the defaults."""

from __future__ import annotations

import asyncio

import pytest

from tierwise import Runtime, call_stage
from tierwise.calls import CallHook
from tierwise.errors import InvalidArgumentError, TierwiseError


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
def runtime_with():
    """A Runtime with the defaults plus the given hooks (closed after the test)."""
    made = []

    def build(*hooks, **options):
        made.append(Runtime(hooks=list(hooks), **options))
        return made[-1]

    yield build
    for rt in made:
        rt.close()


def test_points_run_in_order_sync_and_async(scripted, runtime_with):
    recorder = Recorder()
    rt = runtime_with(recorder)
    _, context = scripted([{"reply": "fine"}])
    call_stage("draft", "hello", context=context, runtime=rt)
    expected = ["before_call", "before_attempt:gemini-3.5-flash-lite", "after_attempt:ok", "after_success",
                "after_call:ok"]
    assert recorder.points == expected
    recorder.points.clear()
    from tierwise import acall_stage

    asyncio.run(acall_stage("draft", "hello", context=context, runtime=rt))
    assert recorder.points == expected


def test_a_hook_can_change_the_plan(scripted, runtime_with):
    class Upgrade(CallHook):
        name = "upgrade"

        def before_call(self, plan):
            return plan.replace(route=plan.registry.on_tier(plan.stage, "pro"))

    rt = runtime_with(Upgrade())
    _, context = scripted([{"reply": "fine"}])
    result = call_stage("draft", "hello", context=context, runtime=rt)
    assert result.record.model == "gemini-3.1-pro-preview"


def test_a_hook_that_refuses_stops_the_call_before_any_model_call(scripted, runtime_with):
    class Refuse(CallHook):
        name = "refuse"

        def before_call(self, plan):
            raise TierwiseError("no calls today")

    recorder = Recorder()
    rt = runtime_with(recorder, Refuse())
    emulator, context = scripted([{"reply": "fine"}])
    with pytest.raises(TierwiseError, match="no calls today"):
        call_stage("draft", "hello", context=context, runtime=rt)
    assert emulator.requests == [] if hasattr(emulator, "requests") else True
    assert recorder.points == ["before_call", "after_call:TierwiseError"]  # after_call always runs


def test_the_defaults_are_the_runtimes_own_and_replaceable(scripted, runtime_with):
    import importlib.util

    otel = ["otel"] if importlib.util.find_spec("opentelemetry") else []  # tierwise[otel]: spans, once set up
    assert [h.name for h in runtime_with().hooks] == ["ledger", "shadow", *otel]
    bare = runtime_with(default_hooks=False)
    assert bare.hooks == ()
    _, context = scripted([{"reply": "fine"}])
    assert call_stage("draft", "hello", context=context, runtime=bare).value == "fine"  # no ledger, still answered


def test_importing_tierwise_installs_nothing():
    """`import tierwise` registers no hook, starts no thread, opens no file and reads no environment variable."""
    import subprocess
    import sys

    probe = """
import os, sys, threading
reads = []
class Env(dict):
    def get(self, k, d=None): reads.append(k); return super().get(k, d)
    def __getitem__(self, k): reads.append(k); return super().__getitem__(k)
opened = []
sys.addaudithook(lambda ev, args: opened.append(args[0]) if ev == "open" and "tierwise" not in str(args[0])
                 and str(args[0]).endswith((".db", ".toml", ".json")) else None)
os.environ = Env(os.environ)
before = threading.active_count()
import tierwise
assert threading.active_count() == before, "a thread was started"
assert not [r for r in reads if r.startswith(("TIERWISE", "GOOGLE", "GEMINI"))], reads
assert not opened, opened
assert "tierwise.runtime" not in sys.modules and "tierwise.ledger" not in sys.modules
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "ok", done.stderr


def test_only_call_hooks_can_be_given():
    with pytest.raises(InvalidArgumentError, match="CallHook"):
        Runtime(hooks=[object()])  # type: ignore[list-item]


def test_a_volatile_hook_is_asked_on_every_call(scripted, runtime_with):
    """A hook whose `enabled` may change while the registry does not (OpenTelemetry set up after start) says
    `volatile = True`: it is left out of the calls it is off for, and in from the first call it is on for."""

    class Switch(Recorder):
        volatile = True
        on = False

        def enabled(self, registry):
            return self.on

    switch = Switch()
    rt = runtime_with(switch)
    _, context = scripted([{"reply": "fine"}])
    call_stage("draft", "hello", context=context, runtime=rt)
    assert switch.points == []
    switch.on = True
    call_stage("draft", "hello", context=context, runtime=rt)
    assert switch.points[0] == "before_call" and switch.points[-1] == "after_call:ok"
    switch.on, switch.points = False, []
    call_stage("draft", "hello", context=context, runtime=rt)
    assert switch.points == []
