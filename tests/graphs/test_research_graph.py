"""The research graph end to end through the real Gemini client, over a small committed corpus: cheap models read,
Pro writes, and every citation names a document that exists."""

from __future__ import annotations

import asyncio

from graph_rules import CLAIMS, CORPUS, QUERIES, SYNTHESIZE, assert_priced

from tierwise import build_research_graph
from tierwise.search import Document, FolderSearch

QUESTION = "How much electricity do solar panels produce, and can a battery store it?"
SHARED = "Solar output depends on sunlight."


def rules(synthesis="Panels give 300-400 W at peak [solar-panels]; a battery stores it [storage/home-batteries]."):
    return [
        {"system": QUERIES, "reply": {"queries": ["solar panels watts output", "home battery storage"]}},
        # Every document yields the shared claim (merged by dedupe) and one of its own.
        {"system": CLAIMS, "user": r"Document id: (?P<id>\S+)", "reply": {"claims": [SHARED, "Only $id says this."]}},
        {"system": SYNTHESIZE, "reply": synthesis, "thoughts": 100},
    ]


def run(context, question=QUESTION, **kwargs):
    return build_research_graph(search_tool=FolderSearch(CORPUS), **kwargs).invoke({"input": question},
                                                                                   context=context)


def test_end_to_end_cites_documents_that_exist(scripted):
    emulator, context = scripted(rules())
    result = run(context)
    steps = result["steps"]
    assert steps[:2] == ["queries", "search"] and steps[-3:] == ["dedupe", "synthesize", "report"]
    assert steps.count("claims") == len(result["documents"]) >= 2
    assert [c.stage for c in result["calls"]][0] == "research_queries"
    assert {(c.stage, c.tier) for c in result["calls"]} == {
        ("research_queries", "lite"), ("research_claims", "lite"), ("research_synthesize", "pro")}
    assert result["queries"] == ["solar panels watts output", "home battery storage"]
    assert [c.id for c in result["citations"]] == ["solar-panels", "storage/home-batteries"]
    for citation in result["citations"]:  # each cited document is a file of the corpus
        assert any((CORPUS / f"{citation.id}{suffix}").is_file() for suffix in (".md", ".txt"))
        assert citation.title in ("Solar panels", "Home batteries")
    assert result["unknown_citations"] == []
    assert "[solar-panels]" in result["answer"]
    assert_priced(result)
    synthesis = emulator.requests[-1]
    assert synthesis.model == "gemini-3.1-pro-preview"
    assert "0.5 percent" not in synthesis.user and "half a percent" not in synthesis.user  # claims, not raw text


def test_duplicate_claims_are_merged_with_all_their_sources(scripted):
    emulator, context = scripted(rules())
    result = run(context)
    shared = [c for c in result["claims"] if c.text == SHARED]
    assert len(shared) == 1 and shared[0].sources == [d.id for d in result["documents"]]
    assert len(result["claims"]) == 1 + len(result["documents"])
    synthesis = emulator.requests[-1].user
    assert synthesis.count(SHARED) == 1 and f"[{', '.join(shared[0].sources)}]" in synthesis


def test_unknown_citations_are_removed_and_reported(scripted):
    _, context = scripted(rules("Panels give 300 W [solar-panels]. Heat pumps too [heat-pumps, made-up-report]. "
                                "See also [1]. Markdown [links](https://example.org) stay."))
    result = run(context)
    assert "heat-pumps" not in [d.id for d in result["documents"]]  # in the corpus, but never retrieved
    assert result["unknown_citations"] == ["heat-pumps", "made-up-report", "1"]
    assert result["answer"] == ("Panels give 300 W [solar-panels]. Heat pumps too. See also. "
                                "Markdown [links](https://example.org) stay.")
    assert [c.id for c in result["citations"]] == ["solar-panels"]


def test_nothing_found_means_no_claims_and_no_pro_call(scripted):
    emulator, context = scripted([{"system": QUERIES, "reply": {"queries": ["quantum chromodynamics"]}}])
    result = run(context, "What is quantum chromodynamics?")
    assert result["documents"] == [] and result["citations"] == []
    assert [c.stage for c in result["calls"]] == ["research_queries"]
    assert result["steps"] == ["queries", "search", "dedupe", "synthesize", "report"]
    assert "say nothing" in result["answer"]


def test_unusable_queries_fall_back_to_the_question(scripted):
    _, context = scripted([{"system": QUERIES, "reply": "solar stuff"}, *rules()[1:]])
    result = run(context, "solar panels output")
    assert result["queries"] == ["solar panels output"]
    assert result["citations"]


def test_a_search_tool_of_your_own(scripted):
    class Fixed:
        def search(self, query, k=5):
            return [Document(id="kb-42", title="Refunds", text="Refunds take 5 days.", source="kb://42")]

    _, context = scripted(rules("Refunds take 5 days [kb-42]."))
    result = build_research_graph(search_tool=Fixed()).invoke({"input": "How long do refunds take?"},
                                                              context=context)
    assert [(c.id, c.source) for c in result["citations"]] == [("kb-42", "kb://42")]


def test_the_packaged_corpus_is_the_offline_default(scripted):
    _, context = scripted([{"system": QUERIES, "reply": {"queries": ["thinking tokens billed"]}},
                           *rules("Thinking is billed as output [thinking-tokens].")[1:]])
    result = asyncio.run(build_research_graph().ainvoke({"input": "How are thinking tokens billed?"},
                                                        context=context))
    assert "thinking-tokens" in [d.id for d in result["documents"]]
    assert [c.id for c in result["citations"]] == ["thinking-tokens"]
