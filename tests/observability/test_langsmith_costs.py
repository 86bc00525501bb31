"""LangSmith shows tierwise's dollars: every traced LLM run carries the ledger record's cost in `usage_metadata`
(LangSmith's documented way to send client-side costs), sent by the real `langsmith` client to a recording
endpoint on 127.0.0.1, and the trace's LLM runs add up to the run's `total_cost_usd`."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.callbacks import get_usage_metadata_callback
from langchain_core.tracers.langchain import LangChainTracer
from langsmith import Client
from pipeline import JUDGE, pipeline_rules

from tierwise import build_graph
from tierwise.ledger import open_ledger

from .langsmith_sink import LangSmithSink

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
WEAK_DRAFT = {"answer": "Maybe.", "confidence": "high"}
# A soft cap every call is past: stages run on Flex (served Flex, billed at half price), on their own tiers.
FLEX = "[budget]\ndaily_usd = 0.000001\ndowngrade_when_capped = false\nservice_tier_when_capped = \"flex\"\n"


def rules():
    """Triage reads from a context cache; the judge first answers unparseable JSON (a billed, unusable attempt);
    the Pro polish thinks."""
    return [{"system": JUDGE, "reply": "not json at all", "times": 1},
            *[{**rule, "cached_tokens": 40} if "triage" in rule["system"] else rule
              for rule in pipeline_rules(triage=SIMPLE, draft=WEAK_DRAFT, judge={"score": 3, "reason": "Vague."},
                                         thoughts=120)]]


def traced(sink: LangSmithSink) -> tuple[LangChainTracer, Client]:
    client = Client(api_url=sink.url, api_key="ls-test-key", auto_batch_tracing=True)
    return LangChainTracer(client=client, project_name="tierwise-test"), client


def check_trace(sink: LangSmithSink, result: dict) -> None:
    calls = result["calls"]
    runs = sorted(sink.llm_runs(), key=lambda r: r["start_time"])
    assert len(runs) == len(calls) >= 5
    assert any(c.outcome == "unusable" and c.cost_usd > 0 for c in calls)  # a billed failure is in the trace too
    with open_ledger() as ledger:
        stored = {e.call_id: e for e in ledger.entries()}
    for run, call in zip(runs, calls, strict=True):
        metadata = run["extra"]["metadata"]
        usage = metadata["usage_metadata"]
        assert metadata["ls_provider"] == "google_genai" and metadata["ls_model_name"] == call.model
        assert metadata["tierwise_stage"] == call.stage
        assert usage["input_tokens"] == call.input_tokens and usage["output_tokens"] == call.output_tokens
        assert usage["total_cost"] == pytest.approx(call.cost_usd, abs=1e-12) == stored[call.call_id].cost_usd
        assert usage["input_cost"] + usage["output_cost"] == pytest.approx(usage["total_cost"], abs=1e-12)
        # The soft cap moves every stage to Flex but the critical polish, which it never touches.
        tier = "standard" if call.stage == "polish" else "flex"
        assert call.service_tier == tier == stored[call.call_id].service_tier
        prefix = "" if tier == "standard" else f"{tier}_"
        if tier != "standard":
            assert usage["input_cost_details"][tier] == pytest.approx(call.input_cost_usd, abs=1e-12)
            assert usage["output_cost_details"][tier] == pytest.approx(call.output_cost_usd, abs=1e-12)
        if call.cached_tokens:
            assert usage["input_cost_details"][f"{prefix}cache_read"] == pytest.approx(call.cached_input_cost_usd)
            assert 0 < call.cached_input_cost_usd < call.input_cost_usd
        if call.thinking_tokens:
            assert usage["output_cost_details"][f"{prefix}reasoning"] == pytest.approx(call.thinking_cost_usd)
            assert 0 < call.thinking_cost_usd < call.output_cost_usd
    assert any(c.cached_tokens for c in calls) and any(c.thinking_tokens for c in calls)
    total = sum(run["extra"]["metadata"]["usage_metadata"]["total_cost"] for run in runs)
    assert total == pytest.approx(result["total_cost_usd"], abs=1e-12)
    assert total == pytest.approx(sum(e.cost_usd for e in stored.values()), abs=1e-12)  # = `tierwise report`


def test_every_llm_run_carries_the_ledger_cost(scripted, tmp_path):
    (tmp_path / "tierwise.toml").write_text(FLEX)
    _, context = scripted(rules())
    with LangSmithSink() as sink:
        tracer, client = traced(sink)
        with get_usage_metadata_callback() as usage:  # LangChain's own usage tally still works: integers only
            result = build_graph().invoke({"input": "Charged twice: urgent?"}, context=context,
                                          config={"callbacks": [tracer]})
        client.flush()
        assert result["escalated"] and result["steps"][-2] == "polish"
        check_trace(sink, result)
        assert all("total_cost" not in u for u in usage.usage_metadata.values())
        assert sum(u["output_tokens"] for u in usage.usage_metadata.values()) == sum(
            c.output_tokens for c in result["calls"])
        assert any(p.startswith("POST /runs/multipart") for p in sink.paths)


def test_async_runs_carry_it_too(scripted, tmp_path):
    (tmp_path / "tierwise.toml").write_text(FLEX)
    _, context = scripted(rules())
    with LangSmithSink() as sink:
        tracer, client = traced(sink)
        result = asyncio.run(build_graph().ainvoke({"input": "Charged twice: urgent?"}, context=context,
                                                   config={"callbacks": [tracer]}))
        client.flush()
        check_trace(sink, result)


def test_untraced_calls_are_left_as_they_are(scripted, tmp_path, monkeypatch):
    from tierwise.calls import tracecost

    monkeypatch.setenv("LANGSMITH_TRACING", "false")
    monkeypatch.setenv("LANGCHAIN_TRACING_V2", "false")
    seen = []
    real = tracecost.with_trace_costs

    def spy(runnable, config, kwargs, plan, candidate):
        out = real(runnable, config, kwargs, plan, candidate)
        seen.append(out[0] is runnable and out[1] is config and out[2] is kwargs and out[3] is None)
        return out

    monkeypatch.setattr(tracecost, "with_trace_costs", spy)
    _, context = scripted(rules())
    result = build_graph().invoke({"input": "Charged twice: urgent?"}, context=context)
    assert len(seen) == len(result["calls"]) and all(seen)
    assert result["total_cost_usd"] > 0


def test_tracing_switched_on_by_the_environment(tmp_path):
    """The usual set-up: LANGSMITH_TRACING=true and nothing else in code (`tierwise run`, a process of its own)."""
    import json
    import os
    import subprocess
    import sys

    ledger = f"sqlite:///{tmp_path}/env.db"
    with LangSmithSink() as sink:
        env = {**os.environ, "LANGSMITH_TRACING": "true", "LANGSMITH_ENDPOINT": sink.url,
               "LANGSMITH_API_KEY": "ls-test-key", "LANGSMITH_PROJECT": "tierwise-env", "TIERWISE_LEDGER_URL": ledger}
        done = subprocess.run([sys.executable, "-m", "tierwise.cli", "run", "Charged twice: urgent?", "--backend",
                               "scripted", "--json"], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)
        runs = sink.llm_runs()
    assert len(runs) == len(result["calls"]) >= 3
    costs = sorted(run["extra"]["metadata"]["usage_metadata"]["total_cost"] for run in runs)
    assert costs == pytest.approx(sorted(c["cost_usd"] for c in result["calls"]), abs=1e-12)
    assert sum(costs) == pytest.approx(result["total_cost_usd"], abs=1e-12)
    with open_ledger(ledger) as stored:
        assert sum(e.cost_usd for e in stored.entries()) == pytest.approx(sum(costs), abs=1e-12)
