"""Shadow traffic as a call-path hook: after a stage answers, maybe re-run it on a higher tier in the background
(tierwise/shadow/traffic.py). Never delays or fails the user's call: scheduling errors are logged and dropped."""

from __future__ import annotations

import logging

from tierwise.calls.hooks import CallHook
from tierwise.calls.plan import CallPlan
from tierwise.calls.result import StageResult
from tierwise.shadow.traffic import ShadowTraffic
from tierwise.tiers import Registry

log = logging.getLogger("tierwise.shadow")


class ShadowHook(CallHook):
    """Samples answered calls into `traffic` (the runtime's shadow workers, counts and ledgers)."""

    name = "shadow"

    def __init__(self, traffic: ShadowTraffic) -> None:
        self.traffic = traffic

    def enabled(self, registry: Registry) -> bool:
        return registry.data.shadow.enabled

    def close(self) -> None:
        self.traffic.close()

    def after_success(self, plan: CallPlan, result: StageResult) -> None:
        if plan.tools:
            return
        try:
            self.traffic.maybe_shadow(plan.route.stage, list(plan.messages), plan.schema, result, plan.context,
                                      plan.registry, plan.labels, plan.runtime)
        except Exception:  # noqa: BLE001 - shadow traffic must never affect the user's request
            log.warning("shadow traffic could not be scheduled", exc_info=True)
