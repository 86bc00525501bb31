"""Scripted rules that drive the built-in pipeline, one per stage, matched on each node's system prompt."""

from __future__ import annotations

# Fragments of each node's system prompt (tierwise/prompts/*.md) that scripted rules match on.
TRIAGE, EXTRACT, DRAFT = "triage step", "extract structured data", "answer requests briefly"
JUDGE, POLISH, REASON = "grade an answer", "You get a request and a draft", "reasoning step"


def pipeline_rules(*, triage, draft=None, judge=None, polish="Polished final answer.", reason="Reasoned answer.",
                   extract=None, thoughts=0):
    """One rule per stage; Pro stages report `thoughts` thinking tokens."""
    rules = [{"system": TRIAGE, "reply": triage}]
    if extract is not None:
        rules.append({"system": EXTRACT, "reply": extract})
    if draft is not None:
        rules.append({"system": DRAFT, "reply": draft})
    if judge is not None:
        rules.append({"system": JUDGE, "reply": judge})
    rules.append({"system": POLISH, "reply": polish, "thoughts": thoughts})
    rules.append({"system": REASON, "reply": reason, "thoughts": thoughts})
    return rules
