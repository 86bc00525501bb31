"""The call path's extension points. The core resolves models, runs the attempt loop and prices; every other rule
(spend guard, ledger, shadow traffic, and whatever users add) is a hook called at fixed points:

    warm(registry)                     blocking set-up, in a worker thread before async calls
    before_call(plan) -> plan          may return a changed plan (e.g. a cheaper tier), or raise to refuse
    before_attempt(plan, candidate, attempts)   may raise (e.g. a hard cap reached between attempts)
    after_attempt(plan, record, attempts)       every attempt, priced, good or not
    after_success(plan, result)                 the answer the caller gets (e.g. schedule shadow traffic)
    after_call(plan, attempts, result, error)   always, once, whatever happened (release what before_call took)

Each point has an async twin (`abefore_call`, ...) that defaults to the sync one on the event loop; a hook doing
blocking I/O overrides the async twins (e.g. `await asyncio.to_thread(...)`). A runtime's hooks run in the order
it was given them (`tierwise.Runtime(hooks=[...])`: the defaults, then yours); nothing is installed process-wide.
A hook with resources to free has a `close()`, called by `Runtime.close()`.

Gap: LangChain callbacks observe a call but cannot change or refuse it, and know nothing of tiers or attempts.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tierwise.state.records import CallRecord
    from tierwise.tiers import Registry, StageModel

    from .plan import Attempts, CallPlan
    from .result import StageResult


class CallHook:
    """Base class of a call-path rule: override the points you need. `name` identifies it for `uninstall`."""

    name: str = "hook"
    # False: `enabled` depends on the registry alone, asked once per registry. True: it may change while the
    # registry does not (e.g. OpenTelemetry set up after start), so it is asked on every call (keep it cheap).
    volatile: bool = False

    def enabled(self, registry: Registry) -> bool:
        """Whether this hook has anything to do for calls under `registry` (e.g. the ledger when it is off): a
        disabled hook is left out of those calls entirely, so it costs nothing."""
        return True

    def warm(self, registry: Registry) -> None:
        """Blocking set-up (open a database...), run in a worker thread before async calls, at most once a second."""
        return None

    def before_call(self, plan: CallPlan) -> CallPlan:
        return plan

    def before_attempt(self, plan: CallPlan, candidate: StageModel, attempts: Attempts) -> None:
        return None

    def after_attempt(self, plan: CallPlan, record: CallRecord, attempts: Attempts) -> None:
        return None

    def after_success(self, plan: CallPlan, result: StageResult) -> None:
        return None

    def after_call(self, plan: CallPlan, attempts: Attempts, result: StageResult | None,
                   error: BaseException | None) -> None:
        return None

    async def abefore_call(self, plan: CallPlan) -> CallPlan:
        return self.before_call(plan)

    async def abefore_attempt(self, plan: CallPlan, candidate: StageModel, attempts: Attempts) -> None:
        self.before_attempt(plan, candidate, attempts)

    async def aafter_attempt(self, plan: CallPlan, record: CallRecord, attempts: Attempts) -> None:
        self.after_attempt(plan, record, attempts)

    async def aafter_success(self, plan: CallPlan, result: StageResult) -> None:
        self.after_success(plan, result)

    async def aafter_call(self, plan: CallPlan, attempts: Attempts, result: StageResult | None,
                          error: BaseException | None) -> None:
        self.after_call(plan, attempts, result, error)


POINTS = ("before_call", "before_attempt", "after_attempt", "after_success", "after_call")


@functools.lru_cache(maxsize=64)
def _at(hooks: tuple[CallHook, ...], point: str) -> tuple[CallHook, ...]:
    """The hooks that do something at `point` (overriding it, or its async twin): the rest are skipped."""
    twin = "a" + point
    return tuple(hook for hook in hooks
                 if getattr(type(hook), point) is not getattr(CallHook, point)
                 or getattr(type(hook), twin) is not getattr(CallHook, twin))


def wants(hooks: tuple[CallHook, ...], point: str) -> bool:
    return bool(_at(hooks, point)) if hooks else False


def run_point(hooks: tuple[CallHook, ...], point: str, *args: Any) -> Any:
    """Call `point` on each of `hooks` (sync). before_call threads the plan through them and returns it."""
    if point == "before_call":
        plan = args[0]
        for hook in _at(hooks, point) if hooks else ():
            plan = hook.before_call(plan)
        return plan
    for hook in _at(hooks, point) if hooks else ():
        getattr(hook, point)(*args)
    return None


async def arun_point(hooks: tuple[CallHook, ...], point: str, *args: Any) -> Any:
    """Async `run_point`: awaits each hook's async twin."""
    if point == "before_call":
        plan = args[0]
        for hook in _at(hooks, point) if hooks else ():
            plan = await hook.abefore_call(plan)
        return plan
    for hook in _at(hooks, point) if hooks else ():
        await getattr(hook, "a" + point)(*args)
    return None
