"""Turn (plan, model, time left) into what the client is invoked with: the chat model, the messages, the run
config (trace metadata and tags on top of the parent run's) and per-call options (timeout, service tier)."""

from __future__ import annotations

from typing import Any

from tierwise.tiers import CallSettings, StageModel

from .models import runnable_for
from .plan import CallPlan
from .served import VERTEX_TIER_HEADER


def call_parts(plan: CallPlan, candidate: StageModel, timeout_s: float,
               max_output_tokens: int | None = None) -> tuple[Any, list[Any], dict[str, Any], dict[str, Any]]:
    labels = {"tierwise_stage": candidate.stage, "tierwise_tier": candidate.tier, "tierwise_model": candidate.model_id}
    if plan.task_type:
        labels["tierwise_task_type"] = plan.task_type
    for key, value in plan.labels.items():
        if value is not None:
            labels[key if key.startswith("tierwise_") else f"tierwise_{key}"] = value
    tags = [f"stage:{candidate.stage}", f"tier:{candidate.tier}"]
    tags += [f"route:{plan.labels['route']}"] if plan.labels.get("route") else []
    tags += [f"task_type:{plan.task_type}"] if plan.task_type else []
    # On top of the parent run's config, so LangGraph's own metadata (node, step) and callbacks survive for
    # streaming: what merge_configs does for these three keys, without its general-case cost on the hot path.
    parent = plan.parent_config
    config = {**parent, "run_name": f"tierwise:{candidate.stage}", "tags": [*parent.get("tags", ()), *tags],
              "metadata": {**parent.get("metadata", {}), **labels}}
    settings = settings_for(plan, candidate)
    kwargs: dict[str, Any] = {"timeout": timeout_s}
    if plan.processing == "batch":
        pass  # a Batch API job has no service tier
    elif settings.service_tier != "standard" and plan.endpoint.kind == "vertex":
        # Vertex AI selects Flex/Priority PayGo with this header and refuses the body field (calls/served.py)
        kwargs["http_options"] = {"headers": {VERTEX_TIER_HEADER: settings.service_tier}}
    elif settings.service_tier != "standard":
        kwargs["service_tier"] = settings.service_tier  # sent as the request's serviceTier
    if max_output_tokens is not None and max_output_tokens < settings.max_output_tokens:
        kwargs["max_output_tokens"] = max_output_tokens  # this attempt's lower limit (Attempts.output_limit)
    runnable = runnable_for(candidate, settings, plan.endpoint, plan.schema, plan.tools, plan.loop, plan.deferred)
    return runnable, list(plan.messages), config, kwargs


def settings_for(plan: CallPlan, candidate: StageModel) -> CallSettings:
    """The stage's settings as `candidate`'s model accepts them, for the plan's service tier — the same for a
    fallback, a task type's promotion, a shadow call, a cap downgrade or `tier=`: a model is never sent what it
    refuses ("minimal" becomes its lowest level, ignored sampling parameters are not sent...)."""
    return plan.registry.settings_for(candidate, plan.service_tier)
