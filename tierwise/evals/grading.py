"""The LLM judge shared by the eval's `judge` checker and by shadow traffic: the pipeline's own judge prompt
(score 1-10 with a reason), plus a reference answer when the case has one. Goes through the call path like
every model call, so it is priced, recorded and labelled (`purpose`) like the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tierwise.calls import ModelCallError, acall_stage, call_stage
from tierwise.context import Context
from tierwise.state.records import CallRecord


@dataclass(frozen=True)
class Grade:
    score: int | None  # 1-10, None when the judge failed or answered unusably
    reason: str
    records: list[CallRecord]

    @property
    def quality(self) -> float | None:
        return None if self.score is None else self.score / 10

    @property
    def cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.records)


def grade_messages(request: str, answer: str, reference: str | None = None) -> list[tuple[str, str]]:
    from tierwise.prompts import render

    if reference is None:
        return render("judge", input=request, draft=answer or "(empty)")
    return render("grade_reference", input=request, answer=answer or "(empty)", reference=reference)


def grade(request: str, answer: str, *, reference: str | None = None, stage: str = "judge", tier: str = "",
          context: Context | None = None, task_type: str | None = None, labels: dict[str, Any] | None = None,
          runtime: Any = None) -> Grade:
    from tierwise.state import Score

    try:
        result = call_stage(stage, grade_messages(request, answer, reference), schema=Score, context=context,
                            task_type=task_type, labels=labels, tier=tier or None, runtime=runtime)
    except ModelCallError as exc:
        return Grade(None, f"judge failed: {exc.kind}", exc.records)
    return _grade(result)


async def agrade(request: str, answer: str, *, reference: str | None = None, stage: str = "judge", tier: str = "",
                 context: Context | None = None, task_type: str | None = None,
                 labels: dict[str, Any] | None = None, runtime: Any = None) -> Grade:
    from tierwise.state import Score

    try:
        result = await acall_stage(stage, grade_messages(request, answer, reference), schema=Score,
                                   context=context, task_type=task_type, labels=labels, tier=tier or None,
                                   runtime=runtime)
    except ModelCallError as exc:
        return Grade(None, f"judge failed: {exc.kind}", exc.records)
    return _grade(result)


def _grade(result: Any) -> Grade:
    if result.value is None:
        return Grade(None, "judge output unusable", result.records)
    return Grade(result.value.score, result.value.reason.strip(), result.records)
