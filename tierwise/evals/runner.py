"""Run the chosen stages of each case on each tier, through the one call path, and score every answer.

Calls carry `purpose = "eval"`: priced and recorded like any call, kept out of `tierwise report`'s traffic totals
and of the optimizer's traffic statistics, and never shadowed. A call the spend guard moved to another tier
(soft cap) measured the wrong tier: its case is left out of the comparison, with a note.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from tierwise.calls import ModelCallError, call_stage
from tierwise.calls.runtime import CallRuntime, current_runtime
from tierwise.context import Context
from tierwise.errors import EvalError, InvalidInputError
from tierwise.tiers import Registry

from .cases import Case
from .checkers import check
from .grading import Grade, grade
from .stages import answer_text, declared_stages, stage_call

PURPOSE = "eval"


@dataclass(frozen=True)
class Outcome:
    """One case × stage × tier."""

    case: Case
    stage: str
    tier: str  # the tier asked for
    ran_on: str  # the tier that answered (differs when a budget cap or a fallback moved the call)
    model: str
    answer: str
    quality: float
    detail: str
    cost_usd: float
    latency_ms: float
    input_tokens: int
    output_tokens: int
    judge_cost_usd: float = 0.0
    failed: bool = False

    @property
    def valid(self) -> bool:
        return self.ran_on == self.tier


@dataclass(frozen=True)
class EvalRun:
    run_id: str
    stages: list[str]
    tiers: list[str]
    outcomes: list[Outcome]
    notes: list[str] = field(default_factory=list)

    def comparable(self) -> list[Outcome]:
        """Outcomes of the (case, stage) pairs every tier answered on the tier it was asked for."""
        bad = {(o.case.id, o.stage) for o in self.outcomes if not o.valid}
        return [o for o in self.outcomes if (o.case.id, o.stage) not in bad]

    @property
    def judge_cost_usd(self) -> float:
        return sum(o.judge_cost_usd for o in self.outcomes)


def run_eval(cases: Sequence[Case], stages: Sequence[str], tiers: Sequence[str], *, registry: Registry,
             context: Context, judge_stage: str | None = None, judge_tier: str | None = None, concurrency: int = 4,
             progress: Callable[[int, int], None] | None = None, runtime: CallRuntime | None = None,
             declarations: Sequence[Any] = ()) -> EvalRun:
    """Every case × stage × tier, `concurrency` calls at a time; outcomes in case, stage, tier order.
    `runtime`: whose endpoint, hooks and ledger the calls use (default: `tierwise.default_runtime()`).
    `declarations`: your own stages (tierwise.Stage), so their cases need no `messages`."""
    runtime = current_runtime(runtime)
    declared = declared_stages(declarations)
    stages = [registry.stage_name(s) if isinstance(s, str) else s for s in stages]  # a former name: the stage now
    _check_names(registry, stages, tiers)
    settings = registry.data.evals
    judge_stage = judge_stage or settings.judge_stage
    judge_tier = settings.judge_tier if judge_tier is None else judge_tier
    if judge_tier and judge_tier not in registry.data.tiers:
        raise EvalError(f"--judge-tier: unknown tier {judge_tier!r} (known: {registry.data.tier_order})")
    run_id = uuid.uuid4().hex
    labels = {"purpose": PURPOSE, "request_id": f"eval-{run_id}"}

    def judge(case: Case, answer: str) -> Grade:
        reference = case.reference if isinstance(case.reference, str) else None
        return grade(case.input, answer, reference=reference, stage=judge_stage, tier=judge_tier, context=context,
                     task_type=case.task_type, labels=labels, runtime=runtime)

    def one(job: tuple[Case, str, str]) -> Outcome:
        case, stage, tier = job
        messages, schema = stage_call(stage, case, context, declared)
        started = time.perf_counter()
        try:
            result = call_stage(stage, messages, schema=schema, context=context, task_type=case.task_type,
                                labels=labels, tier=tier, runtime=runtime)
        except ModelCallError as exc:
            seconds = time.perf_counter() - started
            records = exc.records
            return Outcome(case, stage, tier, tier, records[-1].model if records else "", "", 0.0,
                           f"failed: {exc.kind}", sum(r.cost_usd for r in records), seconds * 1000, 0, 0,
                           failed=True)
        except Exception as exc:  # noqa: BLE001 - keep after paying: the cases already answered (and billed)
            # are written; this one is a failed row saying why, as a batch line would
            return _failed(case, stage, tier, exc, 0.0, started)
        try:
            verdict = check(case, result.value, judge)
        except Exception as exc:  # noqa: BLE001 - the stage's answer is paid: its cost stays in the table
            return _failed(case, stage, tier, exc, sum(r.cost_usd for r in result.records), started)
        seconds = time.perf_counter() - started
        record = result.record
        return Outcome(
            case, stage, tier, record.tier, record.model, answer_text(result.value), verdict.quality,
            verdict.detail, sum(r.cost_usd for r in result.records), seconds * 1000,
            sum(r.input_tokens for r in result.records), sum(r.output_tokens for r in result.records),
            judge_cost_usd=sum(r.cost_usd for r in verdict.judge_records),
        )

    jobs = [(case, stage, tier) for case in cases for stage in stages for tier in tiers]
    for case, stage, _ in jobs[:: len(tiers)]:
        stage_call(stage, case, context, declared)  # a case a stage cannot read fails before any model call
    outcomes: list[Outcome] = []
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="tierwise-eval") as pool:
        for outcome in pool.map(one, jobs):
            outcomes.append(outcome)
            if progress is not None:
                progress(len(outcomes), len(jobs))
    run = EvalRun(run_id, list(stages), list(tiers), outcomes)
    moved = sorted({(o.case.id, o.stage) for o in outcomes if not o.valid})
    if moved:
        run.notes.append(f"{len(moved)} case(s) left out: a call ran on another tier than asked (a budget cap or "
                         f"a fallback), e.g. case {moved[0][0]!r}, stage {moved[0][1]!r}")
    return run


def _failed(case: Case, stage: str, tier: str, exc: Exception, cost_usd: float, started: float) -> Outcome:
    kind = "invalid_input" if isinstance(exc, InvalidInputError) else type(exc).__name__
    return Outcome(case, stage, tier, tier, "", "", 0.0, f"failed: {kind}: {exc}"[:500], cost_usd,
                   (time.perf_counter() - started) * 1000, 0, 0, failed=True)


def _check_names(registry: Registry, stages: Sequence[str], tiers: Sequence[str]) -> None:
    if not stages:
        raise EvalError("--stages: name at least one stage")
    if len(tiers) < 1:
        raise EvalError("--tiers: name at least one tier")
    for stage in stages:
        if stage not in registry.data.stages:
            raise EvalError(f"--stages: unknown stage {stage!r} (known: {', '.join(registry.data.stages)})")
    for tier in tiers:
        if tier not in registry.data.tiers:
            raise EvalError(f"--tiers: unknown tier {tier!r} (known: {', '.join(registry.data.tier_order)})")
    for name, values in (("--stages", stages), ("--tiers", tiers)):
        if len(set(values)) != len(values):
            raise EvalError(f"{name}: a name is listed twice")
