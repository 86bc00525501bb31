"""Score one answer to one case, 0..1: exact match, regex, JSON-schema validity (1 or 0), or an LLM judge
(its score / 10, the outcome-table convention)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tierwise.state.records import CallRecord

from .cases import Case
from .grading import Grade
from .schemas import violation
from .stages import answer_json, answer_text

Judge = Callable[[Case, str], Grade]  # (case, answer text) → the judge's grade


@dataclass(frozen=True)
class Check:
    quality: float
    detail: str
    judge_records: list[CallRecord] = field(default_factory=list)


def check(case: Case, value: Any, judge: Judge) -> Check:
    if case.checker == "exact":
        return _exact(case.reference, value)
    if case.checker == "regex":
        found = re.search(case.pattern or "", answer_text(value))
        return Check(1.0 if found else 0.0, "pattern found" if found else "pattern not found")
    if case.checker == "json_schema":
        try:
            data = answer_json(value)
        except ValueError:
            return Check(0.0, "answer is not JSON")
        problem = violation(data, case.schema or {})
        return Check(0.0 if problem else 1.0, problem or "fits the schema")
    grade = judge(case, answer_text(value))
    if grade.score is None:
        return Check(0.0, grade.reason, grade.records)
    return Check(grade.score / 10, f"judge {grade.score}/10: {grade.reason}", grade.records)


def _exact(reference: Any, value: Any) -> Check:
    if isinstance(reference, str):
        same = _norm(answer_text(value)) == _norm(reference)
    else:  # a JSON reference: compare data, not formatting
        try:
            same = answer_json(value) == reference
        except ValueError:
            same = False
    return Check(1.0 if same else 0.0, "matches the reference" if same else "differs from the reference")


def _norm(text: str) -> str:
    """Case, surrounding space, inner runs of space and a final full stop do not count as differences."""
    return " ".join(text.split()).casefold().rstrip(".")
