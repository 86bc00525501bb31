"""One Runtime an application owns: two in one process share nothing, and neither answers from a stand-in unless
asked (the real client against scripted emulators; real SQLite ledgers)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from pipeline import pipeline_rules

import tierwise
from tierwise import BackendUnavailableError, BudgetExceededError, Context, Runtime, build_graph, call_stage
from tierwise.emulator import Emulator, Fault, Faults, ScriptedBackend
from tierwise.ledger import open_ledger
from tierwise.tiers import build_registry

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}


def rules(tag: str):
    """A simple route: triage, a draft tagged with who answered, a judge that passes it."""
    return pipeline_rules(triage=SIMPLE, draft={"answer": f"answered by {tag}", "confidence": "high"},
                          judge={"score": 9, "reason": "ok"})


@pytest.fixture
def two(tmp_path, monkeypatch):
    """Runtime A: the packaged registry. Runtime B: its draft on the pro tier and a tiny hard cap. Each with its
    own emulator (A's refuses nothing, B's flash-lite is down) and its own ledger."""
    monkeypatch.delenv("TIERWISE_LEDGER_URL")
    emu_a = Emulator(ScriptedBackend(rules("A")))
    emu_b = Emulator(ScriptedBackend(rules("B")), faults=Faults([Fault("unavailable", model="gemini-3.5-flash-lite")]))
    emu_a.start()
    emu_b.start()
    reg_b = build_registry(overrides={"stages": {"draft": {"tier": "pro"}}, "resilience": {"base_delay_s": 0.01,
                                                                                           "max_delay_s": 0.02}})
    rt_a = Runtime(base_url=emu_a.base_url, ledger=str(tmp_path / "a.db"))
    rt_b = Runtime(registry=reg_b, base_url=emu_b.base_url, ledger=str(tmp_path / "b.db"))
    yield rt_a, rt_b, tmp_path
    rt_a.close()
    rt_b.close()
    emu_a.stop()
    emu_b.stop()


def entries(path):
    with open_ledger(f"sqlite:///{path}", create=False) as ledger:
        return ledger.entries()


def test_two_runtimes_run_concurrently_and_see_only_their_own(two):
    rt_a, rt_b, tmp = two
    graphs = {"A": build_graph(runtime=rt_a), "B": build_graph(runtime=rt_b)}
    outs: dict[str, list] = {"A": [], "B": []}

    def work(name):
        for i in range(3):
            outs[name].append(graphs[name].invoke({"input": f"question {i} for {name}"}))

    threads = [threading.Thread(target=work, args=(n,)) for n in ("A", "B", "A", "B")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    async def both():
        return await asyncio.gather(graphs["A"].ainvoke({"input": "async A"}),
                                    graphs["B"].ainvoke({"input": "async B"}))

    async_a, async_b = asyncio.run(both())
    outs["A"].append(async_a)
    outs["B"].append(async_b)

    for name, results in outs.items():
        assert len(results) == 7
        assert all(r["answer"] == f"answered by {name}" for r in results), [r["answer"] for r in results]
    # A's registry drafts on lite; B's on pro.
    assert {c.model for r in outs["A"] for c in r["calls"] if c.stage == "draft"} == {"gemini-3.5-flash-lite"}
    assert {c.model for r in outs["B"] for c in r["calls"] if c.stage == "draft"} == {"gemini-3.1-pro-preview"}
    # B's triage model failed on B's endpoint: B cools it down; A never heard of it.
    assert rt_b.cooldowns._models and not rt_a.cooldowns._models
    rt_a.close()
    rt_b.close()  # flushes each journal
    in_a, in_b = entries(tmp / "a.db"), entries(tmp / "b.db")
    assert len({e.request_id for e in in_a}) == 7 and len({e.request_id for e in in_b}) == 7
    assert not {e.request_id for e in in_a} & {e.request_id for e in in_b}
    assert {e.call_id for e in in_a} == {c.call_id for r in outs["A"] for c in r["calls"]}


def test_a_cap_in_one_runtime_never_refuses_the_other(tmp_path, monkeypatch):
    monkeypatch.delenv("TIERWISE_LEDGER_URL")
    with Emulator(ScriptedBackend([{"reply": "fine"}])) as emu:
        capped = Runtime(registry=build_registry(overrides={"budget": {"hard_daily_usd": 1e-9}}),
                         base_url=emu.base_url, ledger=str(tmp_path / "capped.db"))
        free = Runtime(base_url=emu.base_url, ledger=str(tmp_path / "free.db"))
        with capped, free:
            with pytest.raises(BudgetExceededError):
                call_stage("draft", "hello", runtime=capped)
            assert call_stage("draft", "hello", runtime=free).value == "fine"
        assert len(emu.requests) == 1


def test_no_key_is_an_error_never_a_stand_in(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path)}  # no GOOGLE_API_KEY / GEMINI_API_KEY, no endpoint
    with Runtime(env=env) as rt:
        with pytest.raises(BackendUnavailableError) as refused:
            build_graph(runtime=rt).invoke({"input": "Refund my order 1182, it arrived broken."})
        asyncio.run(_refused_async(rt))
    message = str(refused.value)
    for named in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "backend='local'", "backend='scripted'"):
        assert named in message
    assert not (tmp_path / "tierwise").exists()  # nothing recorded, not even $0


async def _refused_async(rt):
    with pytest.raises(BackendUnavailableError):
        await tierwise.acall_stage("draft", "hello", runtime=rt)


def test_a_context_can_still_choose_a_stand_in_by_name(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path)}
    with Runtime(env=env) as rt:
        out = build_graph(runtime=rt).invoke({"input": "Refund my order 1182."}, context=Context(backend="scripted"))
    assert out["answer"] and out["total_cost_usd"] > 0
    # Its invented spend went to the stand-in ledger, not the one real calls use.
    assert (tmp_path / "tierwise" / "stand-in-ledger.db").is_file()
    assert not (tmp_path / "tierwise" / "ledger.db").exists()
    assert len(entries(tmp_path / "tierwise" / "stand-in-ledger.db")) == len(out["calls"])


def test_a_named_ledger_takes_stand_in_calls_when_asked(tmp_path):
    with Runtime(backend="scripted", ledger=str(tmp_path / "mine.db"), env={"XDG_DATA_HOME": str(tmp_path)}) as rt:
        out = build_graph(runtime=rt).invoke({"input": "Refund my order 1182."})
    assert {e.call_id for e in entries(tmp_path / "mine.db")} == {c.call_id for c in out["calls"]}


def test_a_closed_runtime_refuses_new_work(tmp_path):
    rt = Runtime(backend="scripted", ledger=str(tmp_path / "x.db"))
    rt.close()
    rt.close()  # idempotent
    with pytest.raises(tierwise.TierwiseError, match="closed"):
        call_stage("draft", "hello", runtime=rt)


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"backend": "quantum"}, "backend"),
    ({"registry": 42}, "registry"),
    ({"hooks": "ledger"}, "hooks"),
    ({"api_key": ""}, "api_key"),
    ({"base_url": "http://"}, "base_url"),
    ({"ledger": 3.5}, "ledger"),
    ({"default_hooks": "yes"}, "default_hooks"),
    ({"env": ["GOOGLE_API_KEY"]}, "env"),
])
def test_bad_runtime_arguments_are_named(kwargs, named):
    with pytest.raises(tierwise.TierwiseError, match=named):
        Runtime(**kwargs)


def test_call_stage_refuses_what_is_not_a_runtime():
    with pytest.raises(tierwise.InvalidArgumentError, match="runtime"):
        call_stage("draft", "hello", runtime="default")  # type: ignore[arg-type]
