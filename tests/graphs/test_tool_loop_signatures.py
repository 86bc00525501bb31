"""The agentic graph's tool loop sends Gemini 3's thought signatures back, as Google requires, also when the loop
resumes from a checkpoint (SQLite, in memory) written with tierwise's serializer, and when a fallback model
answers a step.

LangChain's Gemini client keeps each call's signature in the AIMessage (additional_kwargs
`__gemini_function_call_thought_signatures__`, keyed by tool call id) and, when one is missing for a Gemini 3
model, sends Google's `skip_thought_signature_validator` dummy instead: the strict emulator then answers 200
anyway, so these tests check that the signatures it gets back are the ones it issued, not the dummy.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import sqlite3

import pytest
from graph_rules import CORPUS, STEP
from test_agentic_graph import LOOP, ROUTER

from tierwise import build_agentic_graph
from tierwise.emulator import Fault
from tierwise.graph import serializer
from tierwise.search import FolderSearch

QUESTION = "Please calculate 17 * 23 and look up solar panels."
SIGNATURES = "__gemini_function_call_thought_signatures__"  # langchain-google-genai's key in additional_kwargs


def _raw(signature: str) -> bytes:
    return base64.urlsafe_b64decode(signature.replace("+", "-").replace("/", "_"))


def issued_by_the_emulator(signature) -> bool:
    """The emulator's signatures are a digest twice over: a lost one (None) or LangChain's dummy is not."""
    if not signature:
        return False
    raw = _raw(signature)
    return len(raw) == 64 and raw[:32] == raw[32:]


def graph(**kwargs):
    return build_agentic_graph(search_tool=FolderSearch(CORPUS), **kwargs)


def assert_loop_signed(requests):
    """Each step of the loop got back every earlier step's own signature, in order."""
    steps = [r for r in requests if r.tools]
    assert len(steps) == 3
    assert steps[0].call_signatures == []
    assert len(steps[1].call_signatures) == 1 and issued_by_the_emulator(steps[1].call_signatures[0])
    assert steps[2].call_signatures[:1] == steps[1].call_signatures
    assert len(steps[2].call_signatures) == 2 and issued_by_the_emulator(steps[2].call_signatures[1])


def test_the_tool_loop_sends_its_own_signatures_back(scripted):
    emulator, context = scripted(ROUTER + LOOP)
    result = graph().invoke({"input": QUESTION}, context=context)
    assert result["answer"] == "See solar-panels." and result.get("failure") is None
    assert_loop_signed(emulator.requests)


def test_the_async_tool_loop_too(scripted):
    emulator, context = scripted(ROUTER + LOOP)
    result = asyncio.run(graph().ainvoke({"input": QUESTION}, context=context))
    assert result["answer"] == "See solar-panels."
    assert_loop_signed(emulator.requests)


def test_parallel_calls_keep_the_first_calls_signature(scripted):
    rules = ROUTER + [
        {"system": STEP, "tool": r"search_documents: ", "reply": "Done."},
        {"system": STEP, "user": "calculate", "tool_calls": [
            {"name": "calculator", "args": {"expression": "17 * 23"}},
            {"name": "search_documents", "args": {"query": "solar panels"}}]},
    ]
    emulator, context = scripted(rules)
    result = graph().invoke({"input": QUESTION}, context=context)
    assert result["answer"] == "Done." and result["tool_rounds"] == 1
    [signature] = emulator.requests[-1].call_signatures
    assert issued_by_the_emulator(signature)


@contextlib.contextmanager
def _saver(kind, path):
    if kind == "memory":
        from langgraph.checkpoint.memory import InMemorySaver

        yield InMemorySaver(serde=serializer())
        return
    sqlite_saver = pytest.importorskip("langgraph.checkpoint.sqlite", reason="langgraph-checkpoint-sqlite")
    with contextlib.closing(sqlite3.connect(path, check_same_thread=False)) as conn:
        yield sqlite_saver.SqliteSaver(conn, serde=serializer())


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_tool_loop_resumed_from_a_checkpoint_sends_the_saved_signature(scripted, tmp_path, kind):
    """The loop stops after its first tool round; the next step runs from the checkpoint (SQLite: a new saver
    on the same file, as a new process would): the signature comes back from the saver, not from memory."""
    emulator, context = scripted(ROUTER + LOOP)
    config = {"configurable": {"thread_id": f"loop-{kind}"}}
    with _saver(kind, tmp_path / "cp.db") as checkpointer:
        first = graph(checkpointer=checkpointer)
        first.invoke({"input": QUESTION}, config=config, context=context, interrupt_after=["tools"])
        if kind == "memory":
            resumed = first
        saved = first.get_state(config)
        assert saved.next == ("step",)
    ai = [m for m in saved.values["messages"] if m.type == "ai"]
    [(call_id, signature)] = ai[0].additional_kwargs[SIGNATURES].items()
    assert call_id == ai[0].tool_calls[0]["id"] and issued_by_the_emulator(signature)
    asked = len(emulator.requests)
    with _saver(kind, tmp_path / "cp.db") as checkpointer:
        if kind == "sqlite":
            resumed = graph(checkpointer=checkpointer)
        result = resumed.invoke(None, config=config, context=context)
    assert result["answer"] == "See solar-panels." and result.get("failure") is None
    after = emulator.requests[asked:]
    assert _raw(after[0].call_signatures[0]) == _raw(signature)
    assert_loop_signed(emulator.requests)


def test_the_serializer_keeps_a_signed_tool_call_message():
    from langchain_core.messages import AIMessage

    message = AIMessage("", tool_calls=[{"name": "calculator", "args": {"expression": "1 + 1"}, "id": "c1"},
                                        {"name": "search_documents", "args": {"query": "x"}, "id": "c2"}],
                        additional_kwargs={SIGNATURES: {"c1": "c2lnbmF0dXJl"}})
    serde = serializer()
    back = serde.loads_typed(serde.dumps_typed({"messages": [message]}))["messages"][0]
    assert isinstance(back, AIMessage) and back.additional_kwargs == message.additional_kwargs
    assert back.tool_calls == message.tool_calls


def test_stage_cache_keeps_a_signed_tool_call_message(tmp_path):
    from langchain_core.messages import AIMessage

    from tierwise.batch import StageCache

    message = AIMessage("", tool_calls=[{"name": "calculator", "args": {"expression": "1 + 1"}, "id": "c1"}],
                        additional_kwargs={SIGNATURES: {"c1": "c2lnbmF0dXJl"}})
    cache = StageCache(tmp_path / "stages.db")
    try:
        key = (("step",), "k")
        cache.set({key: ([("messages", [message])], None)})
        [(_, [back])] = cache.get([key])[key]
    finally:
        cache.close()
    assert back.additional_kwargs == message.additional_kwargs and back.tool_calls == message.tool_calls


def test_a_fallback_model_mid_loop_gets_the_first_models_signature(scripted):
    """gemini-3.8-flash makes the first call, then is unavailable: agent_step's fallback gemini-3.5-flash
    answers the next step with 3.8-flash's signature in the history. Google documents that another model's
    signature is accepted (its thoughts are dropped), so the emulator answers; nothing is stripped or faked."""
    emulator, context = scripted(ROUTER + LOOP, faults=[Fault("unavailable", model="gemini-3.8-flash", after=1)])
    result = graph().invoke({"input": QUESTION}, context=context)
    assert result["answer"] == "See solar-panels." and result.get("failure") is None
    models = [r.model for r in emulator.requests if r.tools and r.fault is None]
    assert models == ["gemini-3.8-flash", "gemini-3.5-flash", "gemini-3.5-flash"]
    assert_loop_signed([r for r in emulator.requests if r.fault is None])
