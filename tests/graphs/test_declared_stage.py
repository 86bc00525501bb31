"""A stage declared once (tierwise.Stage): its node, an eval of it and its demo answer derive from the declaration,
and examples/add_a_stage.py — the docs' walk-through — runs offline as written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import tierwise
from tierwise import Stage
from tierwise.evals import Case, run_eval

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "add_a_stage.py"


def load_example():
    spec = importlib.util.spec_from_file_location("add_a_stage", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_walk_through_runs_and_its_stage_gives_the_answer(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWISE_LEDGER_URL", f"sqlite:///{tmp_path}/example.db")
    example = load_example()
    out = example.main()
    assert out["answer"] == example.SUMMARIZE.demo  # the answering stage's text is what respond returns
    assert [c.stage for c in out["calls"]] == ["reason", "summarize"]
    assert out["calls"][-1].tier == "lite"  # from its registry entry
    assert out["steps"] == ["reason", "summarize", "respond"]


def test_an_eval_of_a_declared_stage_sends_what_its_node_sends(tmp_path):
    example = load_example()
    case = Case(id="c1", input="Charged twice.", line=1, checker="regex", pattern="(?i)refund",
                state={"reasoned": "Refund it."})
    with tierwise.Runtime(registry=example.REGISTRY, backend="scripted", stages=[example.SUMMARIZE],
                          ledger=str(tmp_path / "eval.db")) as rt:
        run = run_eval([case], ["summarize"], ["lite", "pro"], registry=example.REGISTRY,
                       context=tierwise.Context(), runtime=rt, declarations=[example.SUMMARIZE])
    assert {o.tier for o in run.outcomes} == {"lite", "pro"}
    assert all(o.answer == example.SUMMARIZE.demo for o in run.outcomes)
    sent = example.SUMMARIZE.messages({"input": "Charged twice.", "reasoned": "Refund it."})
    assert "Refund it." in sent[1][1] and "Charged twice." in sent[1][1]


def test_the_built_in_stages_are_declared_and_evals_use_them():
    from tierwise.evals.stages import declared_stages
    from tierwise.nodes import draft

    declared = declared_stages()
    assert set(declared) == {"triage", "extract", "draft", "judge", "reason", "polish"}
    assert declared["draft"].messages({"input": "hi"}) == draft.prepare({"input": "hi"}, tierwise.Context()).messages


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"name": "a b", "prompt": "draft"}, "name"),
    ({"name": "s", "prompt": "no-such-prompt.md"}, "prompt"),
    ({"name": "s", "prompt": "draft", "reads": "input"}, "reads"),
    ({"name": "s", "prompt": "judge", "reads": ("input",)}, r"\$draft"),
    ({"name": "s", "prompt": "draft", "schema": dict}, "schema"),
])
def test_a_bad_declaration_is_named_when_made(kwargs, named):
    with pytest.raises(tierwise.InvalidArgumentError, match=named):
        Stage(**kwargs)
