"""What one stage call is about to do (`CallPlan`, immutable: hooks return a changed copy) and what it did
(`Attempts`, the priced records collected apart, plus a scratch space hooks keep per-call state in)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from tierwise.context import Context
    from tierwise.state.records import CallRecord
    from tierwise.tiers import Registry, StageModel

    from .endpoint import Endpoint
    from .hooks import CallHook
    from .runtime import CallRuntime


@dataclass(frozen=True)
class CallPlan:
    """The stage, its primary model and settings, the request, and where it goes. Built once per stage call."""

    route: StageModel
    registry: Registry
    endpoint: Endpoint
    messages: tuple[Any, ...]
    context: Context
    hooks: tuple[CallHook, ...]
    schema: type | None = None
    tools: Sequence[Any] | None = None
    task_type: str | None = None
    labels: Mapping[str, Any] = field(default_factory=dict)
    prompt_tokens: int = 0
    service_tier: str = "standard"
    stay_on_tier: bool = False  # a spend guard moved it to a cheap tier: fallbacks stay on that tier too
    downgraded_from: str | None = None  # the tier the stage asked for, when a hook moved it
    parent_config: Mapping[str, Any] = field(default_factory=dict)
    loop: Any = None  # the event loop of an async call: its clients are built for that loop
    runtime: CallRuntime | None = None  # whose registry, endpoint, hooks and resources this call uses
    # "batch": attempts go to a deferred collector (deferred.py: the Batch API), billed at batch rates
    processing: Literal["standard", "batch"] = "standard"
    deferred: Any = None  # that collector's transport, when processing is "batch"
    cache_prefix: int = 0  # leading messages that may be read from an explicit cache (explicit_caches.py)
    caches: Any = None  # the ExplicitCaches of the caller's scope, if it chose one

    @property
    def timing(self) -> str:
        """What the time limits follow: "batch" (a job may take hours), else the service tier."""
        return "batch" if self.processing == "batch" else self.service_tier

    @property
    def stage(self) -> str:
        return self.route.stage

    def replace(self, **changes: Any) -> CallPlan:
        return dataclasses.replace(self, **changes)


@dataclass
class Attempts:
    """Every attempt of one stage call, priced, in order; `notes` is per-call memory for hooks (keyed by name)."""

    records: list[CallRecord] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    # A hook's before_attempt may lower the next attempt's max output tokens (thinking included), e.g. to what a
    # spend cap can still pay for; the loop sends it and clears it after that attempt.
    output_limit: int | None = None

    @property
    def last(self) -> CallRecord | None:
        return self.records[-1] if self.records else None
