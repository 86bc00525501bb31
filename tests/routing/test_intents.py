"""The pre-router's intent cues and the default strategy's calibration: data in the registry, checked against the
data the project ships."""

from __future__ import annotations

import csv
import json

import pytest

from tierwise import RegistryError, load_registry
from tierwise.routing import load_router, table_from_rows
from tierwise.routing.calibration import calibrate
from tierwise.routing.packaged import packaged_path

from .conftest import DATA, REPO

LABELLED = REPO / "benchmarks" / "data" / "local_models.jsonl"  # intent-labelled prompts the project ships
LLM_TRIAGE_QUALITY = 0.857  # share of always-Pro quality LLM triage reaches on the routing benchmark (latency.py)


def verdict(cues, text: str) -> str:
    """As the triage node reads them: the first sure cue, else `unsure` when any cue is unsure, else `-`."""
    sure = next((c.intent for c in cues if c.sure_of(text)), None)
    return sure or ("unsure" if any(c.unsure_of(text) for c in cues) else "-")


def subset_prompts(name: str) -> list[str]:
    with open(DATA / f"routellm_{name}_subset.csv", newline="", encoding="utf-8") as f:
        return list(dict.fromkeys(row["prompt"] for row in csv.DictReader(f)))


def test_the_registry_cues_know_the_shipped_extraction_and_writing_prompts() -> None:
    cues = load_registry(None).data.router.intents
    items = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    seen = {(item.get("intent") or item["kind"], verdict(cues, item["input"])) for item in items}
    triage = [i for i in items if i["kind"] == "triage"]
    for item in triage:  # the triage set labels every intent: the sure cues name the two that have a route
        expected = item["intent"] if item["intent"] in ("extraction", "writing") else "-"
        assert verdict(cues, item["input"]) == expected, item["input"]
    extracts = [verdict(cues, i["input"]) for i in items if i["kind"] == "extract"]
    assert extracts.count("extraction") >= 4 and set(extracts) <= {"extraction", "unsure"}, seen  # never missed
    answers = [verdict(cues, i["input"]) for i in items if i["kind"] == "answer"]
    assert set(answers) == {"-"}


def test_no_sure_cue_fires_on_the_routing_benchmarks_prompts() -> None:
    cues = load_registry(None).data.router.intents
    prompts = subset_prompts("mmlu") + subset_prompts("gsm8k")
    verdicts = [verdict(cues, p) for p in prompts]
    assert len(prompts) == 300 and "extraction" not in verdicts and "writing" not in verdicts
    assert verdicts.count("unsure") <= 3  # "Write 1 and 1 over 11 as a mixed number": LLM triage, a Lite call


def test_a_cue_that_is_not_a_regular_expression_is_a_registry_error(tmp_path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[router.intents]]\nintent = "extraction"\nroute = "extract"\nmatch = ["(unclosed"]\n')
    with pytest.raises(RegistryError, match=r"router\.intents\.0\.match\.0: .*not a regular expression"):
        load_registry(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('[[router.intents]]\nintent = "extraction"\nroute = "pro"\n')
    with pytest.raises(RegistryError, match=r"router\.intents\.0\.route"):
        load_registry(wrong)


def test_a_user_file_replaces_the_cues_or_turns_them_off(tmp_path) -> None:
    off = tmp_path / "off.toml"
    off.write_text("[router]\nintents = []\n")
    assert load_registry(off).data.router.intents == []
    mine = tmp_path / "mine.toml"
    mine.write_text('[[router.intents]]\nintent = "extraction"\nroute = "extract"\nmatch = ["^invoice:"]\n')
    (cue,) = load_registry(mine).data.router.intents
    assert cue.sure_of("Invoice: ACME, 120 EUR") and not cue.sure_of("Extract the amount")


def test_the_default_threshold_and_band_are_calibrated_from_the_shipped_outcomes() -> None:
    """Re-derive the registry's [router] threshold and hybrid_margin as its comment says: the packaged router
    calibrated on the MMLU and GSM8K subsets (60 prompts each, as the latency benchmark mixes them) at LLM triage's
    quality there. A change to the router or the data must come with re-calibrated registry values."""
    rows = []
    for name in ("mmlu", "gsm8k"):
        with open(DATA / f"routellm_{name}_subset.csv", newline="", encoding="utf-8") as f:
            found = list(csv.DictReader(f))
        keep = set(list(dict.fromkeys(r["prompt_id"] for r in found))[:60])
        rows += [r for r in found if r["prompt_id"] in keep]
    result, _ = calibrate(table_from_rows(rows), load_router(packaged_path()), target=LLM_TRIAGE_QUALITY)
    settings = load_registry(None).data.router
    assert settings.strategy == "hybrid" and settings.model_path == ""
    assert (settings.threshold, settings.hybrid_margin) == (result.threshold, result.hybrid_margin)
    assert result.met and result.cost_relative < 0.5  # at that quality, under half of always-Pro's dollars
