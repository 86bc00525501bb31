"""Every graph's state survives a checkpointer and the stage cache with its types intact, and a content-graph
thread stopped mid-run continues from its checkpoint (finalize reads `plan.title`).

Checkpointers: LangGraph's InMemorySaver (always), its SQLite saver (when langgraph-checkpoint-sqlite is
installed) and PostgreSQL (TIERWISE_TEST_PG_URL set, as in CI: see tests/ledger/conftest.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3

import pytest
from graph_rules import CORPUS, DRAFT, FINALIZE, FORMAT, PLAN, content_rules
from pipeline import pipeline_rules

from tierwise import build_agentic_graph, build_content_graph, build_graph, build_research_graph
from tierwise.batch import StageCache
from tierwise.graph import serializer, state_types
from tierwise.search import FolderSearch
from tierwise.state import CallRecord, Citation, Claim, ContentPlan, Document, TriageResult

PG_ENV = "TIERWISE_TEST_PG_URL"
SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
RESEARCH = [
    {"system": "into search queries", "reply": {"queries": ["solar panels watts output"]}},
    {"system": "key claims of one document", "reply": {"claims": ["Solar output depends on sunlight."]}},
    {"system": "research question from claims", "reply": "Panels give 300-400 W [solar-panels]."},
]
AGENT = [{"system": "route a request to one of two paths", "reply": {"intent": "one_shot_analysis",
                                                                      "confidence": "high"}},
         {"system": "analytical questions in one", "reply": "Option A is cheaper over ten years."}]


def test_the_allow_list_covers_every_state_type():
    names = {name for _, name in state_types()}
    assert {"CallRecord", "TriageResult", "ContentPlan", "Document", "Claim", "Citation", "AgentRoute"} <= names
    assert all(module.startswith("tierwise.") for module, _ in state_types())


@contextlib.contextmanager
def saver(kind, tmp_path):
    if kind == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver(serde=serializer())
    elif kind == "sqlite":
        sqlite_saver = pytest.importorskip("langgraph.checkpoint.sqlite", reason="langgraph-checkpoint-sqlite")
        conn = sqlite3.connect(tmp_path / "checkpoints.db", check_same_thread=False)
        try:
            yield sqlite_saver.SqliteSaver(conn, serde=serializer())
        finally:
            conn.close()
    else:
        if not os.environ.get(PG_ENV):
            pytest.skip(f"PostgreSQL checkpoints need {PG_ENV} (run .ci/postgres.sh)")
        from tierwise.graph import postgres_checkpointer

        with postgres_checkpointer(os.environ[PG_ENV]) as pg:
            yield pg


SAVERS = ["memory", "sqlite", "postgres"]


def run_graph(name, scripted, checkpointer):
    if name == "main":
        _, context = scripted(pipeline_rules(triage=SIMPLE))
        return build_graph(checkpointer=checkpointer), context, "Is the sky blue?"
    if name == "content":
        _, context = scripted(content_rules())
        return build_content_graph(checkpointer=checkpointer), context, "Announce our new pricing page."
    if name == "research":
        _, context = scripted(RESEARCH)
        return (build_research_graph(search_tool=FolderSearch(CORPUS), checkpointer=checkpointer), context,
                "How much electricity do solar panels produce?")
    _, context = scripted(AGENT)
    return (build_agentic_graph(search_tool=FolderSearch(CORPUS), checkpointer=checkpointer), context,
            "Compare option A and option B over ten years.")


def assert_typed(values):
    """Every record in the state is its own type again, not a dict."""
    assert values["calls"] and all(isinstance(c, CallRecord) for c in values["calls"])
    if "triage" in values:
        assert isinstance(values["triage"], TriageResult)
    if "plan" in values:
        assert isinstance(values["plan"], ContentPlan) and values["plan"].model_dump() == PLAN
    for key, kind in (("documents", Document), ("claims", Claim), ("raw_claims", Claim), ("citations", Citation)):
        if key in values:
            assert values[key] and all(isinstance(v, kind) for v in values[key]), key


@pytest.mark.parametrize("kind", SAVERS)
@pytest.mark.parametrize("name", ["main", "content", "research", "agentic"])
def test_each_graphs_full_state_round_trips_through_a_checkpointer(scripted, tmp_path, name, kind):
    with saver(kind, tmp_path) as checkpointer:
        graph, context, text = run_graph(name, scripted, checkpointer)
        config = {"configurable": {"thread_id": f"{name}-{kind}-{tmp_path.name}"}}
        result = graph.invoke({"input": text}, config=config, context=context)
        assert result.get("failure") is None and result["answer"]
        values = graph.get_state(config).values  # read back from the saver, not from memory
        assert_typed(values)
        assert [c.call_id for c in values["calls"]] == [c.call_id for c in result["calls"]]


def test_each_state_type_round_trips_through_the_stage_cache(tmp_path):
    """Every allow-listed type, as a node write: what the cache returns is the same object, typed."""
    import importlib

    cache = StageCache(tmp_path / "stages.db")
    try:
        for module, name in state_types():
            cls = getattr(importlib.import_module(module), name)
            sample = _samples().get(name)
            if sample is None:
                pytest.fail(f"no sample for {module}.{name}: add one to SAMPLES")
            key = (("node",), name)
            cache.set({key: ([("value", sample)], None)})
            back = cache.get([key])[key]
            assert [tuple(w) for w in back] == [("value", sample)] and type(back[0][1]) is cls, name
    finally:
        cache.close()


def test_a_content_thread_stopped_before_finalize_continues_after_a_restart(scripted, tmp_path):
    """The first process stops before finalize (an interrupt, or a crash there); a new process with a new saver
    on the same file continues the thread: finalize reads the plan back as a ContentPlan."""
    pytest.importorskip("langgraph.checkpoint.sqlite", reason="langgraph-checkpoint-sqlite")
    from langgraph.checkpoint.sqlite import SqliteSaver

    emulator, context = scripted(content_rules(final="The final post."))
    config = {"configurable": {"thread_id": "post-1"}}
    with contextlib.closing(sqlite3.connect(tmp_path / "cp.db", check_same_thread=False)) as conn:
        graph = build_content_graph(checkpointer=SqliteSaver(conn, serde=serializer()))
        graph.invoke({"input": "Announce our new pricing page."}, config=config, context=context,
                     interrupt_before=["finalize"])
        assert graph.get_state(config).next == ("finalize",)
    asked = len(emulator.requests)
    with contextlib.closing(sqlite3.connect(tmp_path / "cp.db", check_same_thread=False)) as conn:
        graph = build_content_graph(checkpointer=SqliteSaver(conn, serde=serializer()))
        result = graph.invoke(None, config=config, context=context)
    assert result["answer"] == "The final post." and result.get("failure") is None
    assert isinstance(result["plan"], ContentPlan)
    later = emulator.requests[asked:]
    assert len(later) == 1 and FINALIZE in later[0].system and PLAN["title"] in later[0].user
    assert not [r for r in later if DRAFT in r.system or FORMAT in r.system]  # nothing asked (or paid) twice


def test_a_content_thread_resumes_in_memory(scripted):
    """The same without the SQLite saver: always runs."""
    from langgraph.checkpoint.memory import InMemorySaver

    emulator, context = scripted(content_rules(final="The final post."))
    graph = build_content_graph(checkpointer=InMemorySaver(serde=serializer()))
    config = {"configurable": {"thread_id": "post-2"}}
    graph.invoke({"input": "Announce our new pricing page."}, config=config, context=context,
                 interrupt_before=["finalize"])
    result = graph.invoke(None, config=config, context=context)
    assert result["answer"] == "The final post." and isinstance(result["plan"], ContentPlan)
    assert PLAN["title"] in emulator.requests[-1].user


def _samples() -> dict:
    from tierwise.state import AgentRoute, Draft, ExtractedClaims, ExtractedField, Extraction, Queries, Score, Triage

    triage = {"intent": "question", "complexity": 1, "confidence": "high"}
    return {
        "CallRecord": CallRecord(call_id="c1", stage="draft", tier="lite", model="gemini-3.5-flash-lite",
                                 cost_usd=0.0001, task_type="t"),
        "Triage": Triage(**triage),
        "TriageResult": TriageResult(**triage, usable=False, source="fallback"),
        "Draft": Draft(answer="a", confidence="high"),
        "Score": Score(score=8, reason="ok"),
        "ExtractedField": ExtractedField(name="n", value="v"),
        "Extraction": Extraction(task="t", fields=[ExtractedField(name="n", value="v")]),
        "ContentPlan": ContentPlan(**PLAN),
        "Document": Document(id="d", title="t", text="x", source="s"),
        "Claim": Claim(text="c", sources=["d"]),
        "Citation": Citation(id="d", title="t", source="s"),
        "Queries": Queries(queries=["q"]),
        "ExtractedClaims": ExtractedClaims(claims=["c"]),
        "AgentRoute": AgentRoute(intent="tool_loop", confidence="high"),
    }
