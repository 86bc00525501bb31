"""Shadow traffic as a call-path hook: after a stage answers, maybe re-run it on a higher tier in the background
(tierwise/evals/shadow.py). Never delays or fails the user's call: scheduling errors are logged and dropped."""

from __future__ import annotations

import logging

from tierwise.calls.hooks import CallHook
from tierwise.calls.plan import CallPlan
from tierwise.calls.result import StageResult
from tierwise.tiers import Registry

log = logging.getLogger("tierwise.shadow")


class ShadowHook(CallHook):
    name = "shadow"

    def enabled(self, registry: Registry) -> bool:
        return registry.data.shadow.enabled

    def after_success(self, plan: CallPlan, result: StageResult) -> None:
        if plan.tools:
            return
        try:
            from tierwise.evals.shadow import maybe_shadow

            maybe_shadow(plan.route.stage, list(plan.messages), plan.schema, result, plan.context, plan.registry,
                         plan.labels)
        except Exception:  # noqa: BLE001 - shadow traffic must never affect the user's request
            log.warning("shadow traffic could not be scheduled", exc_info=True)
