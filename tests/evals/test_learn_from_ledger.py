"""The ledger → router loop, offline: traffic through the graph on the emulator with shadow sampling, then
`tierwise router train --from-ledger` (labels, fine-tune, compare on held-back traffic, write) and
`tierwise calibrate --from-ledger`; the graph then routes with what it learned, with no triage call."""

from __future__ import annotations

import json
import tomllib

import pytest
from typer.testing import CliRunner

from tierwise import Context, build_graph
from tierwise.cli import app
from tierwise.errors import EvalError
from tierwise.evals import ledger_labels
from tierwise.evals.routing_labels import request_text
from tierwise.ledger import open_ledger
from tierwise.routing.learned import load_router

from .conftest import shadow

LITE, PRO = "gemini-3.5-flash-lite", "gemini-3.1-pro-preview"
HARD = ["integral", "eigenvalue", "derivative", "matrix", "theorem", "polynomial", "limit", "logarithm"]
EASY = ["capital", "colour", "weekday", "animal", "greeting", "holiday", "season", "fruit"]
REGISTRY = """
[router]
strategy = "llm"  # the traffic is scripted through LLM triage (everything simple), not the default pre-router

[ledger]
store_prompts = true

[shadow]
enabled = true
daily_usd = 100.0
max_in_flight = 64

[shadow.stages.draft]
rate = {rate}
tier = "pro"
"""


def rules():
    """Triage sends everything down the simple route; Lite gets the maths wrong, Pro gets everything right; the
    judge fails a WRONG answer (2/10) and passes any other (9/10); Pro's polish answers plainly."""
    hard = "|".join(HARD)
    return [
        {"system": "triage step", "reply": {"intent": "question", "complexity": 1, "confidence": "high"}},
        {"system": "grade an answer", "user": r"WRONG", "reply": {"score": 2, "reason": "wrong"}},
        {"system": "grade an answer", "reply": {"score": 9, "reason": "right"}},
        {"model": PRO, "system": "answer requests briefly", "reply": {"answer": "RIGHT", "confidence": "high"}},
        {"system": "answer requests briefly", "user": hard, "reply": {"answer": "WRONG", "confidence": "high"}},
        {"system": "answer requests briefly", "reply": {"answer": "RIGHT", "confidence": "high"}},
        {"system": "You get a request and a draft", "reply": "RIGHT, polished."},
    ]


def prompts(n: int, offset: int = 0) -> list[str]:
    out = []
    for i in range(offset, offset + n):
        words = HARD if i % 2 else EASY
        out.append(f"Question {i}: tell me about the {words[i % len(words)]} number {i // 2}.")
    return out


def run_traffic(scripted, registry_file, n: int, rate: float = 0.5) -> Context:
    _, context = scripted(rules())
    context = Context(base_url=context.base_url, registry_path=registry_file(REGISTRY.format(rate=rate)))
    graph = build_graph()
    for text in prompts(n):
        graph.invoke({"input": text}, context=context)
    assert shadow.drain(60)
    return context


def test_labels_come_from_shadow_pairs_judge_verdicts_and_escalations(scripted, registry_file):
    run_traffic(scripted, registry_file, 24)
    with open_ledger(create=False) as store:
        entries, pairs = store.entries(), store.shadow_pairs()
    found = ledger_labels(entries, pairs, ["lite", "flash", "pro"])
    labels = found.labels
    assert labels.models == ("lite", "pro")  # flash is never labelled: not a rung
    assert found.counts["shadow"] > 0 and found.counts["judge"] > 0 and found.counts["escalation"] > 0
    assert sum(found.counts.values()) == labels.n == 24  # one row per request, the shadow pair winning
    for text, q, signal in zip(labels.prompts, labels.quality, labels.signals, strict=True):
        hard = any(w in text for w in HARD)
        assert text.startswith("Question ")  # the user's request, not the draft template around it
        assert q[0] == (0.2 if signal == "shadow" else 0.0) if hard else q[0] in (0.9, 1.0)
        assert (q[1] == 0.9) if signal == "shadow" else q[1] != q[1]  # Pro's quality known only from a pair


def test_train_from_ledger_compares_then_writes_and_the_graph_routes_with_it(scripted, registry_file, tmp_path):
    context = run_traffic(scripted, registry_file, 80)
    runner = CliRunner()
    out = tmp_path / "router.json"
    res = runner.invoke(app, ["router", "train", "--from-ledger", "--since", "1d", "--out", str(out), "--json",
                              "--registry", context.registry_path])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["labels"] == 80 and doc["signals"]["shadow"] > 0 and doc["signals"]["escalation"] > 0
    current, new = doc["comparison"]
    assert (current["router"], new["router"], doc["current"]) == ("current", "new", "packaged")
    assert new["log_loss"] < current["log_loss"]  # the packaged router knows nothing of this traffic
    assert doc["written"] == str(out)
    router = load_router(out)
    assert router.models == ("lite", "pro") and "fine_tuned_from" in router.meta  # or from scratch: CV picks
    assert router.meta["label_signals"] == doc["signals"] and router.meta["labels_until"]
    hard, easy = prompts(2, offset=1000)[1], prompts(2, offset=1000)[0]
    assert router.predict(hard)[0] < 0.5 < router.predict(easy)[0]

    # human-readable: signals and the side-by-side table before the write
    res = runner.invoke(app, ["router", "train", "--from-ledger", "--out", str(tmp_path / "again.json"),
                              "--registry", context.registry_path])
    assert res.exit_code == 0, res.output
    assert "shadow" in res.stdout and "held-back" in res.stdout and "wrote" in res.stdout

    # calibrate writes the router and its threshold where the graph reads them; the graph then routes alone
    toml = tmp_path / "tierwise.toml"
    res = runner.invoke(app, ["calibrate", "--from-ledger", "--write", str(toml), "--registry",
                              context.registry_path, "--json"])
    assert res.exit_code == 0, res.output
    settings = tomllib.loads(toml.read_text())["router"]
    assert settings["strategy"] == "learned" and (tmp_path / settings["model_path"]).is_file()
    learned = Context(base_url=context.base_url, registry_path=str(toml))
    outputs = [build_graph().invoke({"input": p}, context=learned) for p in prompts(6, offset=2000)]
    assert all(o["triage"].source == "learned" for o in outputs)
    assert [o["route"] for o in outputs] == ["simple", "complex"] * 3


def test_a_ledger_with_hashes_only_says_what_to_turn_on(scripted, registry_file):
    _, context = scripted(rules())
    context = Context(base_url=context.base_url, registry_path=registry_file(
        REGISTRY.format(rate=1.0).replace("store_prompts = true", "store_prompts = false")))
    for text in prompts(4):
        build_graph().invoke({"input": text}, context=context)
    assert shadow.drain(60)
    with open_ledger(create=False) as store:
        entries, pairs = store.entries(), store.shadow_pairs()
    assert all(request_text(e) is None for e in entries)
    with pytest.raises(EvalError, match=r"store_prompts = true"):
        ledger_labels(entries, pairs, ["lite", "flash", "pro"])
    res = CliRunner().invoke(app, ["router", "train", "--from-ledger", "--out", "r.json", "--registry",
                                   context.registry_path])
    assert res.exit_code == 2 and "store_prompts = true" in res.output and "Traceback" not in res.output


def test_suggest_says_when_enough_new_labels_came_in_for_a_retrain(scripted, registry_file, tmp_path):
    context = run_traffic(scripted, registry_file, 12)
    runner = CliRunner()

    def advice(registry):
        res = runner.invoke(app, ["suggest", "--json", "--registry", registry, "--out", str(tmp_path / "s.toml")])
        assert res.exit_code == 0, res.output
        return json.loads(res.stdout)["router"]

    first = advice(context.registry_path)
    assert (first["router"], first["new_labels"], first["retrain"]) == ("packaged", 12, False)
    assert first["signals"]["shadow"] + first["signals"]["judge"] + first["signals"]["escalation"] == 12
    low = registry_file(open(context.registry_path).read().replace("[router]\n", "[router]\nretrain_labels = 10\n"))
    assert advice(low)["retrain"] is True
    res = runner.invoke(app, ["suggest", "--registry", low, "--out", str(tmp_path / "s.toml")])
    assert "a retrain should pay — tierwise router train --from-ledger" in res.output
    out = tmp_path / "router.json"
    assert runner.invoke(app, ["router", "train", "--from-ledger", "--out", str(out), "--registry", low,
                               "--force"]).exit_code == 0
    with_router = f'retrain_labels = 10\nmodel_path = "{out}"'
    trained = registry_file(open(low).read().replace("retrain_labels = 10", with_router))
    after = advice(trained)
    assert after["router"] == str(out) and after["new_labels"] == 0 and after["retrain"] is False


def test_shadow_sampling_can_aim_at_the_requests_the_router_is_least_sure_of(scripted, registry_file):
    from tierwise.tiers.schema import Shadow, ShadowStage

    settings = Shadow(enabled=True, focus="uncertain", uncertain_boost=5, uncertain_band=0.05,
                      stages={"draft": ShadowStage(rate=0.1)})
    assert settings.rate("draft", None, margin=0.01) == pytest.approx(0.5)  # inside the band: boosted
    assert settings.rate("draft", None, margin=0.2) == pytest.approx(0.1)  # outside: the configured rate
    assert settings.rate("draft", None, margin=0.2, band=0.3) == pytest.approx(0.1)  # its own band, set, wins
    unset = Shadow(enabled=True, focus="uncertain", stages={"draft": ShadowStage(rate=0.1)})
    assert unset.rate("draft", None, margin=0.2, band=0.3) == pytest.approx(0.5)  # unset: the router's band
    assert unset.rate("draft", None, margin=0.04) == pytest.approx(0.5)  # neither: 0.05
    assert settings.rate("draft", None) == pytest.approx(0.1)  # margin unknown
    assert Shadow(enabled=True, stages={"draft": ShadowStage(rate=0.1)}).rate("draft", None, 0.01) == 0.1

    # Through the graph (LLM triage; the pre-router is asked for its margin only because focus is uncertain):
    # every request inside a band that holds them all is sampled at 0.2 × 5 = 1.
    _, context = scripted(rules())
    text = REGISTRY.format(rate=0.2) + "focus = \"uncertain\"\nuncertain_boost = 5\nuncertain_band = 1.0\n"
    text = text.replace("[shadow.stages.draft]", "").replace('rate = 0.2\ntier = "pro"\n', "")
    text += '\n[shadow.stages.draft]\nrate = 0.2\ntier = "pro"\n'
    context = Context(base_url=context.base_url, registry_path=registry_file(text))
    outputs = [build_graph().invoke({"input": p}, context=context) for p in prompts(6)]
    assert shadow.drain(60)
    assert all(o["triage"].source == "llm" and o["triage"].margin is not None for o in outputs)
    with open_ledger(create=False) as store:
        assert len(store.shadow_pairs()) == 6
