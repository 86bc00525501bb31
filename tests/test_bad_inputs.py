"""The bad-input catalogue: each mistake gets a clear message in the user's terms, before any model call, with
no traceback from the CLI and nothing half-done (no model request, no ledger row)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from pipeline import pipeline_rules
from typer.testing import CliRunner

from tierwise import Context, InvalidInputError, RegistryError, TierwiseError, build_graph, call_stage
from tierwise.cli import app

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
FIVE_MB = "lorem ipsum " * (5 * 1024 * 1024 // 12)

GRAPH_INPUTS = [
    ("empty", {"input": ""}, "input is empty"),
    ("whitespace", {"input": " \n\t "}, "input is empty"),
    ("none", {"input": None}, "input must be text (str), got NoneType"),
    ("int", {"input": 7}, "input must be text (str), got int"),
    ("float", {"input": 1.5}, "got float"),
    ("bytes", {"input": b"\x00\xff binary"}, "input must be text, got bytes: decode it first"),
    ("list", {"input": ["a", "b"]}, "got list"),
    ("dict", {"input": {"text": "hi"}}, "got dict"),
    ("missing key", {"text": "hi"}, 'the request has no "input" key'),
    ("lone surrogate", {"input": "caf\udce9 order"}, "not valid Unicode text: a lone surrogate at position 3"),
    ("5 MB text", {"input": FIVE_MB}, "the request is too long for stage 'triage'"),
    ("task_type not text", {"input": "hi", "task_type": 3}, "task_type must be text (str), got int"),
    ("request_id not text", {"input": "hi", "request_id": ["x"]}, "request_id must be text (str), got list"),
]


def ledger_rows(tmp_path: Path) -> int:
    db = tmp_path / "ledger.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from tierwise_calls").fetchone()[0]


@pytest.mark.parametrize(("name", "payload", "message"), GRAPH_INPUTS, ids=[c[0] for c in GRAPH_INPUTS])
def test_graph_input(scripted, tmp_path, name, payload, message):
    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        build_graph().invoke(payload, context=context)
    assert emulator.requests == [] and ledger_rows(tmp_path) == 0


def test_a_prompt_over_every_models_window(scripted, tmp_path):
    small = {m: {"context_window": 1000} for m in ("gemini-3.1-flash-lite", "gemini-3.5-flash-lite",
                                                   "gemini-3.5-flash", "gemini-3.8-flash", "gemini-3.1-pro-preview")}
    (tmp_path / "tierwise.toml").write_text("".join(f'[models."{m}"]\ncontext_window = 1000\n' for m in small))
    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match=r"about 2,\d{3} tokens, and the largest context window among its "
                                                "models is 1,000 tokens"):
        build_graph().invoke({"input": "word " * 2000}, context=context)
    assert emulator.requests == []


CONTEXTS = [
    ({"draft_score_threshold": 0}, "draft_score_threshold must be a whole number from 1 to 10, got 0"),
    ({"draft_score_threshold": 11}, "got 11"),
    ({"draft_score_threshold": "high"}, "got 'high'"),
    ({"draft_score_threshold": 7.5}, "got 7.5"),
    ({"confidence_threshold": 1.5}, "confidence_threshold must be a number from 0 to 1, got 1.5"),
    ({"confidence_threshold": -0.1}, "got -0.1"),
    ({"backend": "quantum"}, "backend must be one of auto, gemini, local, scripted, got 'quantum'"),
    ({"base_url": "localhost:8080"}, "base_url must start with http:// or https://"),
    ({"registry_path": 42}, "registry_path must be text (str), got int"),
]


@pytest.mark.parametrize(("settings", "message"), CONTEXTS, ids=[str(c[0]) for c in CONTEXTS])
def test_context_settings(settings, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        Context(**settings)


CALLS = [
    ("unknown stage", "sumarize", "hello", "unknown stage 'sumarize'; the registry declares: "),
    ("stage not text", 5, "hello", "unknown stage 5"),
    ("no messages", "draft", [], "non-empty list"),
    ("bad role", "draft", [("robot", "hi")], "unknown role 'robot'"),
    ("empty message", "draft", [("user", "")], "message 0 is empty"),
    ("bytes message", "draft", [("user", b"hi")], "message 0 must be text, got bytes"),
]


@pytest.mark.parametrize(("name", "stage", "messages", "message"), CALLS, ids=[c[0] for c in CALLS])
def test_call_stage(scripted, name, stage, messages, message):
    emulator, context = scripted([{"reply": "hi"}])
    with pytest.raises(TierwiseError, match=re.escape(message)):
        call_stage(stage, messages, context=context)
    assert emulator.requests == []


REGISTRY_FILES = [
    ("not TOML", "[stages.draft\n", "is not valid TOML"),
    ("unknown tier", "[stages.draft]\ntier = 'ultra'\n", "stages.draft.tier: unknown tier 'ultra'"),
    ("stage without a tier", "[stages.summarise]\ntemperature = 0.2\n", "stages.summarise.tier: Field required"),
    ("missing tier declaration", "tier_order = ['lite', 'flash', 'pro', 'max']\n", "tier_order: lists"),
    ("negative price", "[[models.'gemini-3.8-flash'.prices]]\neffective = 2026-01-01\ninput = -1.0\noutput = 3.0\n",
     "Input should be greater than or equal to 0"),
    ("bad date", "[models.'gemini-3.8-flash']\nshutdown = 'next spring'\n", "models.gemini-3.8-flash.shutdown"),
    ("past shutdown", "[models.'gemini-old']\ntier = 'lite'\ncontext_window = 1000\nshutdown = 2020-01-01\n"
     "replacement = 'gemini-3.5-flash-lite'\nprices = [{effective = 2019-01-01, input = 1.0, output = 1.0}]\n"
     "[tiers.lite]\nmodel = 'gemini-old'\n", "gemini-old was shut down on 2020-01-01; switch to gemini-3.5-flash-lite"),
    ("typo in a key", "[thresholds]\ndraft_scroe = 8\n", "thresholds.draft_scroe: Extra inputs are not permitted"),
    ("invalid threshold", "[thresholds]\ndraft_score = 0\n", "thresholds.draft_score"),
    ("critical falls down", "[stages.reason]\nfallbacks = ['lite']\n", "a critical stage never falls back"),
    ("learned router without a model", "[router]\nstrategy = 'learned'\n", "needs model_path"),
]

runner = CliRunner()


@pytest.mark.parametrize(("name", "text", "message"), REGISTRY_FILES, ids=[c[0] for c in REGISTRY_FILES])
def test_registry_file(tmp_path, name, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RegistryError, match=re.escape(message)):
        from tierwise import build_registry

        build_registry(path)
    for args in (["tiers", "--registry", str(path)], ["run", "hi", "--backend", "scripted", "--registry", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(tmp_path) == 0


def test_bad_environment_override_names_the_variable_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TIERWISE__THRESHOLDS__DRAFT_SCORE", "eleven")
    result = runner.invoke(app, ["run", "hi", "--backend", "scripted"])
    assert result.exit_code == 2 and "thresholds.draft_score" in result.output and "environment" in result.output


CLI = [
    ("empty argument", ["run", ""], None, "error: input is empty"),
    ("binary stdin", ["run", "-"], b"\xff\xfe\x00binary", "error: standard input is not UTF-8 text (byte 0)"),
    ("threshold out of range", ["run", "hi", "--draft-threshold", "11"], None, "Invalid value for '--draft-threshold'"),
    ("unknown command", ["fly"], None, "No such command 'fly'"),
    ("missing registry", ["tiers", "--registry", "nowhere.toml"], None, "nowhere.toml does not exist"),
]


@pytest.mark.parametrize(("name", "args", "stdin", "message"), CLI, ids=[c[0] for c in CLI])
def test_cli(tmp_path, name, args, stdin, message):
    result = runner.invoke(app, [*args, *(["--backend", "scripted"] if args[0] == "run" else [])], input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(tmp_path) == 0
