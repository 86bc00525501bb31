"""Several worker processes share one real PostgreSQL for everything: the ledger, the spend counter behind a
hard cap, and LangGraph checkpoints. Needs TIERWISE_TEST_PG_URL (CI sets it; skipped without)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pipeline import pipeline_rules

from tierwise import build_graph
from tierwise.graph import postgres_checkpointer
from tierwise.ledger import open_ledger

from .procs import run_together

WORKER = Path(__file__).with_name("graph_worker.py")
WORKERS, REQUESTS = 4, 6
RULES = [{**rule, "delay_ms": 10} for rule in pipeline_rules(
    triage={"intent": "question", "complexity": 1, "confidence": "high"},
    draft={"answer": "Refund the duplicate charge.", "confidence": "high"},
    judge={"score": 9, "reason": "Correct."})]


def test_four_workers_share_ledger_budget_and_checkpoints(pg_url, scripted, tmp_path, monkeypatch, llm_triage):
    # llm_triage: every request takes the scripted simple route (3 calls), as the cap below is sized on
    emulator, context = scripted(RULES)
    # Short answers: each call reserves its worst case (max_output_tokens at the output rate) against the cap,
    # so keep that within a few times what the scripted answers really cost.
    short = "".join(f"[stages.{stage}]\nmax_output_tokens = 64\n" for stage in ("triage", "draft", "judge"))
    (tmp_path / "caps.toml").write_text(short)
    monkeypatch.setenv("TIERWISE_REGISTRY", str(tmp_path / "caps.toml"))
    per_request = build_graph().invoke({"input": "Ticket x: my card was charged twice."},
                                       context=context)["total_cost_usd"]  # on a scratch SQLite ledger
    cap = round(per_request * WORKERS * REQUESTS * 0.45, 9)  # about half of what the workers will ask for
    (tmp_path / "caps.toml").write_text(f"[budget]\nhard_daily_usd = {cap}\n{short}")
    monkeypatch.setenv("TIERWISE_LEDGER_URL", pg_url)

    outputs = run_together(WORKER, [[context.base_url, f"w{n}", str(REQUESTS)] for n in range(WORKERS)])
    results = [json.loads(line) for out in outputs for line in out.splitlines()]
    assert len(results) == WORKERS * REQUESTS

    # Ledger: every call any worker made is stored once, and the counter is their sum.
    reported = {call_id: cost for r in results for call_id, cost in r["calls"]}
    with open_ledger(pg_url) as ledger:
        stored = ledger.entries()
        spend = ledger.spend()
    assert sorted(e.call_id for e in stored) == sorted(reported)
    assert spend.day_usd == pytest.approx(sum(reported.values()), abs=1e-9)

    # Budget: one counter for all — later requests were refused in every process that asked once the cap could
    # not take another call, and the cap held exactly: spend never passed it.
    refused = [r for r in results if r["failure"] == "budget"]
    assert refused and len(refused) < len(results)
    assert spend.day_usd <= cap + 1e-12 and spend.reserved_day_usd == 0.0
    # More than one process was served before the cap (which process wins the race to it is the scheduler's call:
    # on a loaded machine a late-starting worker may find the cap already spent).
    assert len({r["thread"].split("-")[0] for r in results if r["failure"] is None}) >= 2

    # Checkpoints: any process reads any worker's finished thread.
    with postgres_checkpointer(pg_url, setup=False) as saver:
        graph = build_graph(checkpointer=saver)
        for r in results:
            state = graph.get_state({"configurable": {"thread_id": r["thread"]}})
            assert state.next == ()
            assert state.values["request_id"] == r["request_id"]
            assert state.values.get("answer") == r["answer"]
            assert [c.call_id for c in state.values["calls"]] == [c for c, _ in r["calls"]]
        threads = {c.config["configurable"]["thread_id"] for c in saver.list(None)}
    assert threads == {r["thread"] for r in results}
    assert len(emulator.requests) == len(reported) + 3  # + the cost probe's 3: a refused call never went out
