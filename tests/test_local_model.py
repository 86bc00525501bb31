"""The whole graph on a real small model (SmolLM2-135M via llama.cpp) behind the emulator."""

from __future__ import annotations

import pytest

from tierwise import Context, build_graph
from tierwise.emulator import LocalBackend

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LocalBackend.available(), reason="install tierwise[local] (llama-cpp-python)"),
]


def test_local_backend_answers_with_real_token_counts():
    result = build_graph().invoke({"input": "What is the capital of France?"}, context=Context(backend="local"))
    assert result["answer"].strip()
    assert result["steps"][0] == "triage" and result["steps"][-1] == "respond"
    for call in result["calls"]:
        assert call.input_tokens > 10  # real tokenizer counts of the real prompt
        assert call.outcome in ("ok", "unusable")
    assert sum(c.output_tokens for c in result["calls"]) > 0
    assert result["total_cost_usd"] > 0


# The README's first command asks this; the answer a new user reads must at least be about their problem.
FIRST_RUN = "Is this ticket urgent? My card was charged twice."
ON_TOPIC = ("urgent", "charge", "refund", "billing", "twice", "duplicate", "card", "payment")


def test_first_run_answers_on_topic_from_the_local_model_and_says_so(tmp_path, monkeypatch):
    """The README's first command: no key, `tierwise run` picks the local model, says so on stderr and in --json,
    and records its calls in the stand-in ledger, never in the one real calls use."""
    import json

    from typer.testing import CliRunner

    from tierwise.cli import app

    monkeypatch.delenv("TIERWISE_LEDGER_URL")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    done = CliRunner().invoke(app, ["run", FIRST_RUN, "--json"])
    assert done.exit_code == 0, done.output
    assert "answering from the local model" in done.stderr and "not Gemini" in done.stderr
    result = json.loads(done.stdout)
    assert result["backend"] == "local"
    assert (tmp_path / "tierwise" / "stand-in-ledger.db").is_file()
    assert not (tmp_path / "tierwise" / "ledger.db").exists()

    answer = result["answer"].lower()
    assert any(word in answer for word in ON_TOPIC), result["answer"]
    assert len(answer.split()) < 200  # the demo cap keeps it short, not a ramble to the context limit
