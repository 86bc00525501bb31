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
