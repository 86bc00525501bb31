"""A prebuilt pipeline on a real small model (SmolLM2-135M via llama.cpp) behind the emulator: offline, real token
counts. Short outputs keep it to seconds; the model's quality is not what is tested."""

from __future__ import annotations

import pytest

from tierwise import Context, build_content_graph
from tierwise.emulator import LocalBackend

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not LocalBackend.available(), reason="install tierwise[local] (llama-cpp-python)"),
]


def test_content_graph_on_the_local_model(tmp_path):
    registry = tmp_path / "short.toml"
    registry.write_text("[stages.content_draft]\nmax_output_tokens = 192\n[stages.content_finalize]\n"
                        "max_output_tokens = 192\n")
    context = Context(backend="local", registry_path=str(registry))
    result = build_content_graph().invoke({"input": "Announce our new pricing page."}, context=context)
    assert result["steps"] == ["draft", "plan", "finalize", "report"]
    assert not result.get("failure") and result["answer"].strip()
    assert result["calls"][0].tier == "lite" and result["calls"][-1].stage == "content_finalize"
    assert result["calls"][-1].tier == "pro"
    assert all(call.input_tokens > 10 for call in result["calls"])  # the real tokenizer's counts
    assert result["total_cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in result["cost_by_stage"].values()))
