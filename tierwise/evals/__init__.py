"""Know when a tier is wrong: an eval suite, shadow traffic and a tier optimizer.

    from tierwise.evals import load_cases, run_eval, summarize, write_outcomes
    run = run_eval(load_cases("cases.jsonl"), ["draft"], ["lite", "pro"], registry=reg, context=Context())
    rows = summarize(run, reg)                       # quality ± CI, paired Δ vs today's tier, cost, p50 latency
    write_outcomes(run, "eval.csv")                  # an outcome table (tierwise/routing/FORMAT.md)

    suggest(reg, ledger.entries(since), ledger.shadow_pairs(since), read_eval_rows(["eval.csv"]))

Shadow traffic is a rule of the call path (`tierwise.shadow`), switched on in the registry's
`[shadow]` section; `runtime.shadow.drain()` / `await runtime.shadow.adrain()` wait for pending samples.
Imports are lazy: `import tierwise.evals` loads neither numpy nor the Gemini client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tierwise._lazy import lazy_exports

_EXPORTS = {
    "Case": "cases",
    "load_cases": "cases",
    "EvalError": "tierwise.errors",
    "EvalRun": "runner",
    "Outcome": "runner",
    "run_eval": "runner",
    "TierRow": "summary",
    "summarize": "summary",
    "write_outcomes": "outcomes",
    "read_eval_rows": "outcomes",
    "Suggestion": "suggestions",
    "suggest": "suggestions",
    "override_text": "overrides",
    "write_overrides": "overrides",
    "Grade": "grading",
    "grade": "grading",
    "agrade": "grading",
    "ledger_labels": "routing_labels",
}

__all__ = [
    "Case",
    "EvalError",
    "EvalRun",
    "Grade",
    "Outcome",
    "Suggestion",
    "TierRow",
    "agrade",
    "grade",
    "ledger_labels",
    "load_cases",
    "override_text",
    "read_eval_rows",
    "run_eval",
    "suggest",
    "summarize",
    "write_outcomes",
    "write_overrides",
]


__getattr__ = lazy_exports(__name__, {name: module if "." in module else f".{module}"
                                      for name, module in _EXPORTS.items()}, globals())


if TYPE_CHECKING:
    from tierwise.errors import EvalError

    from .cases import Case, load_cases
    from .grading import Grade, agrade, grade
    from .outcomes import read_eval_rows, write_outcomes
    from .overrides import override_text, write_overrides
    from .routing_labels import ledger_labels
    from .runner import EvalRun, Outcome, run_eval
    from .suggestions import Suggestion, suggest
    from .summary import TierRow, summarize
