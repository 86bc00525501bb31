"""tierwise's price of each attempt on the chat model's own LangSmith run, so a trace shows the ledger's dollars.

LangSmith prices an LLM run from its tokens and its own price table unless the run carries its cost: its
cost-tracking docs ask for `usage_metadata` with `input_cost`, `output_cost`, `total_cost`, `input_cost_details`
and `output_cost_details` when pricing is not linear in tokens — as Gemini's is (long-context rates, cached input,
thinking, the service tier that served). LangChain's tracer copies the message's `usage_metadata` into the run when
the model call ends (langchain_core.tracers.langchain, `_on_llm_end`); LangChain itself writes `total_cost` there
for a cache hit.

Gap: no LangChain hook lets a caller add to the run's usage. So, for this one call, each LangSmith tracer is
replaced by a copy of it (sharing its runs, as LangChain's own `copy_with_metadata_defaults` does) that prices the
reply as the run ends — with the same function that prices the CallRecord (calls/billing.py; the record then takes
that very Cost) — and adds the costs to the run's copy of the usage only. The message itself is untouched: no other
handler or caller sees float costs in it (LangChain's `add_usage` accepts only integers, so
`get_usage_metadata_callback` would fail on them).

When nothing traces to LangSmith, nothing is added: no cost on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from langchain_core.tracers.langchain import LangChainTracer

from tierwise.tiers import Cost, StageModel

from . import served
from .billing import call_cost, usage_from
from .plan import CallPlan


class TracePricer:
    """Prices one attempt's reply for its trace; `cost` is what the CallRecord then bills."""

    def __init__(self, plan: CallPlan, candidate: StageModel) -> None:
        self.plan, self.candidate = plan, candidate
        self.cost: Cost | None = None

    def add_costs(self, run: Any) -> None:
        """Put the costs into the usage of each message of the run's outputs (the tracer's serialized copy)."""
        for generations in (run.outputs or {}).get("generations") or ():
            for generation in generations:
                kwargs = (generation.get("message") or {}).get("kwargs") if isinstance(generation, dict) else None
                usage = kwargs.get("usage_metadata") if isinstance(kwargs, dict) else None
                if not isinstance(kwargs, dict) or not isinstance(usage, Mapping):
                    continue
                seen = served.current()  # each response's own usage and tier: the record's very bill
                reported = next((s.tier for s in reversed(seen) if s.tier), None)
                self.cost = call_cost(self.plan, self.candidate, usage_from(usage), reported, seen)[0]
                kwargs["usage_metadata"] = {**usage, **langsmith_costs(self.cost, usage)}


class CostingTracer(LangChainTracer):
    """A LangSmith tracer whose LLM runs carry tierwise's costs (see the module docstring)."""

    pricer: TracePricer

    @classmethod
    def around(cls, tracer: LangChainTracer, pricer: TracePricer) -> CostingTracer:
        costing: Any = tracer.copy_with_metadata_defaults()  # the same client, project, runs and order
        costing.__class__ = cls
        costing.pricer = pricer
        return cast(CostingTracer, costing)

    def copy_with_metadata_defaults(self, **kwargs: Any) -> LangChainTracer:
        copy = super().copy_with_metadata_defaults(**kwargs)
        if isinstance(copy, CostingTracer):  # it is: LangChain builds the copy with self.__class__(...)
            copy.pricer = self.pricer
        return copy

    def _on_llm_end(self, run: Any) -> None:
        self.pricer.add_costs(run)
        super()._on_llm_end(run)


def langsmith_costs(cost: Cost, usage: Mapping[str, Any]) -> dict[str, Any]:
    """LangSmith's cost fields for one run. Details: `cache_read` (input) and `reasoning` (output), the token types
    LangChain already names in `input_token_details`/`output_token_details`; a run served on Flex or Priority also
    names its tier, as langchain-openai names service-tier token counts (`flex`, `priority`, `flex_cache_read`...)."""
    tier = "" if cost.service_tier == "standard" else cost.service_tier
    prefix = f"{tier}_" if tier else ""
    cached = bool((usage.get("input_token_details") or {}).get("cache_read"))
    thinking = bool((usage.get("output_token_details") or {}).get("reasoning"))
    input_details: dict[str, float] = {}
    output_details: dict[str, float] = {}
    if cached:
        input_details[f"{prefix}cache_read"] = cost.cached_input_usd
    if thinking:
        output_details[f"{prefix}reasoning"] = cost.thinking_usd
    if tier:
        input_details[tier] = cost.input_usd
        output_details[tier] = cost.output_usd
    fields: dict[str, Any] = {"input_cost": cost.input_usd, "output_cost": cost.output_usd,
                              "total_cost": cost.total_usd}
    if input_details:
        fields["input_cost_details"] = input_details
    if output_details:
        fields["output_cost_details"] = output_details
    return fields


def with_trace_costs(runnable: Any, config: dict[str, Any], kwargs: dict[str, Any], plan: CallPlan,
                     candidate: StageModel) -> tuple[Any, dict[str, Any], dict[str, Any], TracePricer | None]:
    """(runnable, config, kwargs) to invoke so that this call's LangSmith tracer(s) price its run, and the pricer;
    all unchanged (and None) when the call is not traced to LangSmith."""
    callbacks = config.get("callbacks")
    if not _traced(callbacks):
        return runnable, config, kwargs, None
    from langchain_core.callbacks import CallbackManager
    from langchain_core.runnables import RunnableBinding

    # LangChain's own set-up, as the chat model would do it: it adds the LangSmith tracer when tracing is on.
    manager = CallbackManager.configure(inheritable_callbacks=callbacks)
    if not any(isinstance(handler, LangChainTracer) for handler in manager.handlers):
        return runnable, config, kwargs, None
    pricer = TracePricer(plan, candidate)
    costing: dict[int, LangChainTracer] = {}

    def swap(handlers: list[Any]) -> list[Any]:
        return [costing.setdefault(id(h), CostingTracer.around(h, pricer)) if isinstance(h, LangChainTracer) else h
                for h in handlers]

    manager.handlers, manager.inheritable_handlers = swap(manager.handlers), swap(manager.inheritable_handlers)
    if isinstance(runnable, RunnableBinding) and not runnable.config and not runnable.config_factories:
        # What the binding's invoke does, minus its config merge: that merge unions our callbacks with the running
        # graph node's (ensure_config reads LangGraph's context), which would bring the plain tracer back too.
        runnable, kwargs = runnable.bound, {**runnable.kwargs, **kwargs}
    return runnable, {**config, "callbacks": manager}, kwargs, pricer


def _traced(callbacks: Any) -> bool:
    """Whether LangChain would trace this call to LangSmith: a tracer among the callbacks, or tracing switched on
    (environment, `tracing_v2_enabled()`). Gap: LangChain's own test for the latter is private; it is what its
    callback set-up calls, so both agree."""
    from langchain_core.callbacks import BaseCallbackManager

    if isinstance(callbacks, BaseCallbackManager):
        # A running graph's (or chain's) manager: LangChain set it up when the run began, tracer included when
        # tracing was on then; the environment is not read again on every call (~25 µs). (Tracing switched on
        # inside a running node is not priced: its tracer is added below us, at the chat model's own set-up.)
        return any(isinstance(handler, LangChainTracer) for handler in callbacks.handlers)
    from langchain_core.tracers.context import _tracing_v2_is_enabled

    if _tracing_v2_is_enabled():
        return True
    handlers = callbacks if isinstance(callbacks, list) else ()
    return any(isinstance(handler, LangChainTracer) for handler in handlers)
