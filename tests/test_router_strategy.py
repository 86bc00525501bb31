"""The graph's router strategy: llm (triage on Lite), learned (no API call), hybrid (learned when confident)."""

from __future__ import annotations

import random

import pytest
from pipeline import pipeline_rules

from tierwise import RegistryError, build_graph
from tierwise.routing import table_from_rows, train_router

EASY_WORDS = ["capital", "spell", "define", "colour", "synonym", "plural"]
HARD_WORDS = ["prove", "derive", "optimise", "theorem", "integral", "complexity"]


def synthetic_table():
    """Lite answers questions about easy topics as well as Pro; only Pro handles hard ones."""
    rng, rows = random.Random(0), []
    for i in range(300):
        hard = i % 2 == 1
        words = rng.sample(HARD_WORDS if hard else EASY_WORDS, 3)
        prompt = f"Please {' '.join(words)} item {i}"
        rows.append({"prompt_id": str(i), "prompt": prompt, "model": "lite", "quality": 0.0 if hard else 1.0,
                     "cost_usd": 0.0001})
        rows.append({"prompt_id": str(i), "prompt": prompt, "model": "pro", "quality": 1.0, "cost_usd": 0.002})
    return table_from_rows(rows)


@pytest.fixture
def learned_registry(tmp_path):
    router = train_router(synthetic_table())
    router.save(tmp_path / "router.json")

    def write(strategy, **extra):
        lines = [f'strategy = "{strategy}"', 'model_path = "router.json"'] + [f"{k} = {v}" for k, v in extra.items()]
        path = tmp_path / "tierwise.toml"  # the working directory's override file: the graph reads it itself
        path.write_text("[router]\n" + "\n".join(lines) + "\n")
        return path

    return write


RULES = pipeline_rules(triage={"intent": "question", "complexity": 2, "confidence": "high"},
                       draft={"answer": "Paris.", "confidence": "high"}, judge={"score": 9, "reason": "ok"},
                       reason="A careful proof.")


def test_learned_router_routes_without_an_api_call(scripted, learned_registry):
    learned_registry("learned")
    emulator, context = scripted(RULES)
    graph = build_graph()
    easy = graph.invoke({"input": "Please spell capital colour item 9001"}, context=context)
    assert easy["route"] == "simple" and easy["triage"].source == "learned"
    assert [c.stage for c in easy["calls"]] == ["draft", "judge"]  # no triage call
    hard = graph.invoke({"input": "Please prove theorem integral item 9002"}, context=context)
    assert hard["route"] == "complex" and [c.stage for c in hard["calls"]] == ["reason"]
    assert not any("triage step" in r.system for r in emulator.requests)


def test_hybrid_falls_back_to_llm_triage_when_unsure(scripted, learned_registry):
    learned_registry("hybrid", hybrid_confidence=1.0)  # nothing is that confident: the LLM always decides
    _, context = scripted(RULES)
    result = build_graph().invoke({"input": "Please spell capital colour item 9001"}, context=context)
    assert result["triage"].source == "llm" and result["calls"][0].stage == "triage"


def test_hybrid_uses_the_learned_router_when_confident(scripted, learned_registry):
    learned_registry("hybrid", hybrid_confidence=0.5)
    _, context = scripted(RULES)
    result = build_graph().invoke({"input": "Please spell capital colour item 9001"}, context=context)
    assert result["triage"].source == "learned" and result["calls"][0].stage == "draft"


def test_a_missing_router_file_is_a_clear_error(scripted, tmp_path):
    (tmp_path / "tierwise.toml").write_text('[router]\nstrategy = "learned"\nmodel_path = "nope.json"\n')
    _, context = scripted(RULES)
    with pytest.raises(RegistryError, match="router.model_path: .*nope.json does not exist"):
        build_graph().invoke({"input": "hello"}, context=context)


def test_learned_strategy_without_a_model_uses_the_packaged_router(scripted, tmp_path):
    (tmp_path / "tierwise.toml").write_text('[router]\nstrategy = "learned"\n')
    _, context = scripted(RULES)
    result = build_graph().invoke({"input": "What is the capital of France?"}, context=context)
    assert result["triage"].source == "learned" and result["calls"][0].stage != "triage"


def test_hybrid_asks_llm_triage_only_inside_the_uncertain_band(scripted, learned_registry):
    from tierwise.routing import load_router

    router = load_router(learned_registry("hybrid").parent / "router.json")
    easy, unsure = "Please spell capital colour item 9001", "Please tell item 9003"
    wide = router.decide(unsure).margin + 1e-6  # a band that holds the unsure prompt, not the easy one
    assert router.decide(easy).margin > wide
    learned_registry("hybrid", threshold=router.threshold, hybrid_margin=round(wide, 6) + 1e-6)
    _, context = scripted(RULES)
    graph = build_graph()
    assert graph.invoke({"input": easy}, context=context)["triage"].source == "learned"
    assert graph.invoke({"input": unsure}, context=context)["triage"].source == "llm"


def test_intent_cues_pick_a_route_before_the_ladder_and_an_unsure_one_asks_only_in_hybrid(scripted, tmp_path):
    """A sure cue decides in learned and hybrid alike; an unsure one sends hybrid to LLM triage, while learned (no API
    call, ever) lets the ladder decide."""
    from tierwise import Context

    unsure = "Find the city and the temperature: It was 31 degrees in Madrid this afternoon."
    rules = pipeline_rules(triage={"intent": "extraction", "complexity": 2, "confidence": "high"},
                           draft={"answer": "Madrid.", "confidence": "high"}, judge={"score": 9, "reason": "ok"},
                           extract={"task": "t", "fields": []}, reason="Madrid, 31 degrees.")
    emulator, _ = scripted(rules)
    graph, context = build_graph(), {}
    for strategy in ("learned", "hybrid"):  # a band that holds nothing: only the cues can make hybrid ask
        path = tmp_path / f"{strategy}.toml"
        path.write_text(f'[router]\nstrategy = "{strategy}"\nhybrid_margin = 0.0\n')
        context[strategy] = Context(base_url=emulator.base_url, registry_path=str(path))
        sure = graph.invoke({"input": "Extract the amount from this invoice: 120 EUR"}, context=context[strategy])
        assert (sure["route"], sure["triage"].source, sure["triage"].intent) == ("extract", "learned", "extraction")
    assert graph.invoke({"input": unsure}, context=context["learned"])["triage"].source == "learned"
    assert not any("triage step" in r.system for r in emulator.requests)
    asked = graph.invoke({"input": unsure}, context=context["hybrid"])
    assert asked["triage"].source == "llm" and asked["route"] == "extract"
