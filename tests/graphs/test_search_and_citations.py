"""The pieces the research graph is built on: BM25 over a folder, citation checking, claim deduplication."""

from __future__ import annotations

import pytest
from graph_rules import CORPUS

from tierwise.errors import InvalidInputError
from tierwise.nodes.research import citations, dedupe
from tierwise.search import FolderSearch, SearchTool, default_search
from tierwise.search.bm25 import BM25, tokenize
from tierwise.state import Claim


def test_folder_search_reads_md_and_txt_with_stable_ids_and_titles():
    search = FolderSearch(CORPUS)
    assert isinstance(search, SearchTool)
    docs = {d.id: d for d in search.documents}
    assert set(docs) == {"solar-panels", "heat-pumps", "storage/home-batteries", "wind-turbines", "insulation"}
    assert docs["storage/home-batteries"].title == "Home batteries"
    assert docs["wind-turbines"].title == "wind turbines"  # a .txt without a heading: its file name
    assert docs["solar-panels"].source.endswith("solar-panels.md")


def test_bm25_ranks_the_relevant_document_first_and_drops_non_matches():
    search = FolderSearch(CORPUS)
    assert search.search("heat pump efficiency outdoor temperature", 2)[0].id == "heat-pumps"
    assert search.search("wind speed turbulence", 5)[0].id == "wind-turbines"
    assert search.search("quantum chromodynamics", 5) == []


def test_bm25_weights_rare_terms_and_normalises_length():
    index = BM25([tokenize("cat cat cat dog"), tokenize("dog bird"), tokenize("dog " * 50 + "cat")])
    assert [i for i, _ in index.top(["cat"], 3)] == [0, 2]
    assert index.idf["cat"] > index.idf["dog"]


def test_the_packaged_sample_corpus_is_searchable():
    assert default_search().search("thinking tokens billed as output", 1)[0].id == "thinking-tokens"


def test_a_missing_corpus_is_a_clear_error(tmp_path):
    with pytest.raises(InvalidInputError, match="is not a folder"):
        FolderSearch(tmp_path / "nope")


@pytest.mark.parametrize(
    ("text", "answer", "known", "unknown"),
    [
        ("A [a]. B [a, b].", "A [a]. B [a, b].", ["a", "b"], []),
        ("A [a; x]. B [y].", "A [a]. B.", ["a"], ["x", "y"]),
        ("Only [ghost].", "Only.", [], ["ghost"]),
        ("Prose [like this one] and [a link](http://x) stay.", "Prose [like this one] and [a link](http://x) stay.",
         [], []),
        ("Nested ids [dir/doc-1.v2] work.", "Nested ids [dir/doc-1.v2] work.", ["dir/doc-1.v2"], []),
    ],
)
def test_citations_keep_known_ids_and_remove_unknown_ones(text, answer, known, unknown):
    ids = {"a", "b", "dir/doc-1.v2"}
    assert citations.check(text, ids) == (answer, known, unknown)


def test_dedupe_merges_near_identical_claims_and_keeps_distinct_ones():
    claims = [Claim(text="Panels produce 300 to 400 watts at peak.", sources=["a"]),
              Claim(text="Panels produce 300 to 400 watts at peak output.", sources=["b"]),
              Claim(text="Batteries hold 5 to 15 kWh.", sources=["b"]),
              Claim(text="panels produce 300 to 400 watts at peak", sources=["a"])]
    merged = dedupe.merge(claims)
    assert [(c.text, c.sources) for c in merged] == [
        ("Panels produce 300 to 400 watts at peak.", ["a", "b"]), ("Batteries hold 5 to 15 kWh.", ["b"])]
