"""Property and fuzz tests (hypothesis) over every parser and over the CLI's argument handling.

The properties, for any input at all:
- a parser returns a value that strict JSON can write back, or raises the one error type (InputFileError and its
  subclasses) — never RecursionError, ValueError, TypeError, KeyError or AttributeError;
- the CLI, run in-process, exits 0, 1 or 2; a refusal (2) is one `error:` line (or click's usage box) and no
  traceback; and no file is written that the command line did not name (the output, its sidecars).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tierwise.cli import app
from tierwise.errors import InputFileError, InvalidInputError, TierwiseError
from tierwise.strict import MAX_DEPTH, check_tree, dumps_json, loads_json, loads_toml

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                         HealthCheck.too_slow])
CLI = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                       HealthCheck.too_slow])
runner = CliRunner()

# JSON-ish text: real JSON values with hostile tokens spliced in, and plain noise.
HOSTILE = st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "[" * 3000, "{\"a\":" * 500,
                           '"\\ud800"', '"\\u0000"', "\ufeff", "\x00", "1" * 41, "-0", "1e-400"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@st.composite
def json_ish(draw: st.DrawFn) -> str:
    text = json.dumps(draw(JSON_VALUES))
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(HOSTILE) + text[at:]
    return text


ANY_TEXT = json_ish() | st.text() | HOSTILE


def _strict_round_trip(value: object) -> None:
    check_tree(value)  # depth, finite, bounded, valid Unicode
    dumps_json(value)  # a strict writer takes it back


@FAST
@given(ANY_TEXT)
def test_json_parser_returns_strict_data_or_the_one_error(text):
    try:
        value = loads_json(text, source="f.jsonl", line=1)
    except InputFileError as exc:
        assert str(exc).startswith("f.jsonl:1: ")
        return
    _strict_round_trip(value)


@FAST
@given(st.text() | HOSTILE.map(lambda h: f"a = {h}") | st.integers(1, 4000).map(lambda n: "a = " + "[" * n))
def test_toml_parser_returns_strict_data_or_the_one_error(text):
    try:
        value = loads_toml(text, source="r.toml")
    except InputFileError as exc:
        assert str(exc).startswith("r.toml")
        return
    check_tree(value)


def test_depth_bound_is_exact():
    assert loads_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(InputFileError, match="nested deeper"):
        loads_json("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


@FAST
@given(ANY_TEXT | st.dictionaries(st.sampled_from(["id", "input", "task_type", "request_id", "metadata", "x"]),
                                  JSON_VALUES).map(json.dumps))
def test_batch_line_parser(line):
    from tierwise.batch.items import parse_line

    try:
        item = parse_line(line, 1)
    except InvalidInputError:
        return
    assert item.input.strip() and isinstance(item.id, str)
    _strict_round_trip(item.metadata)


@FAST
@given(st.lists(ANY_TEXT | st.dictionaries(
    st.sampled_from(["id", "input", "task_type", "reference", "checker", "pattern", "schema", "state", "messages"]),
    JSON_VALUES).map(json.dumps), min_size=1, max_size=4))
def test_eval_cases_parser(lines):
    from tierwise.evals import load_cases

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "cases.jsonl"
        path.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8",
                        errors="surrogatepass")
        try:
            cases = load_cases(path)
        except InputFileError as exc:
            assert "cases.jsonl" in str(exc)
            return
        assert all(case.input.strip() for case in cases)


@FAST
@given(st.lists(ANY_TEXT, min_size=1, max_size=3))
def test_outcome_table_reader(lines):
    from tierwise.errors import OutcomeError
    from tierwise.routing.table import load_outcomes

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.jsonl"
        path.write_text("\n".join(line.replace("\n", " ") for line in lines), encoding="utf-8",
                        errors="surrogatepass")
        with contextlib.suppress(OutcomeError):
            load_outcomes(path)


@FAST
@given(st.dictionaries(st.sampled_from(["api", "model", "method", "sse", "key", "request", "responses", "x"]),
                       JSON_VALUES | st.lists(st.dictionaries(
                           st.sampled_from(["status", "body", "frames", "headers"]), JSON_VALUES), max_size=2)))
def test_cassette_reader(document):
    from tierwise.emulator import Cassette

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m" / "generateContent-k.json"
        path.parent.mkdir()
        path.write_text(json.dumps(document), encoding="utf-8")
        try:
            Cassette(folder).check_all()
        except InputFileError as exc:
            assert "generateContent-k.json" in str(exc)


@FAST
@given(st.lists(ANY_TEXT | st.dictionaries(
    st.sampled_from(["id", "status", "total_cost_usd", "error", "answer", "calls", "line", "zzz"]),
    JSON_VALUES).map(json.dumps), min_size=1, max_size=4))
def test_resumed_output_reader(lines):
    from tierwise.batch.journal import Journal
    from tierwise.errors import BatchInputError

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.jsonl"
        path.write_text("".join(line.replace("\n", " ") + "\n" for line in lines), encoding="utf-8",
                        errors="surrogatepass")
        try:
            done = Journal(path)._load()
        except BatchInputError as exc:
            assert "out.jsonl" in str(exc)
            return
        for entry in done.values():
            assert entry["status"] in ("ok", "failed")


REGISTRY_KEYS = st.sampled_from(["thresholds", "resilience", "stages", "models", "budget", "tiers", "tier_order",
                                 "service_tiers", "endpoint", "router", "shadow", "families", "aliases"])
LEAVES = JSON_VALUES | st.dates() | st.datetimes()


@FAST
@given(st.dictionaries(REGISTRY_KEYS, st.dictionaries(st.text(max_size=12) | st.sampled_from(
    ["draft", "gemini-3.8-flash", "base_delay_s", "draft_score", "base_url", "daily_usd", "prices"]),
    LEAVES | st.dictionaries(st.sampled_from(["tier", "effective", "input", "output", "prices", "timeout_s"]),
                             LEAVES), max_size=3) | LEAVES, max_size=3))
def test_registry_overrides(overrides):
    from tierwise import build_registry

    try:
        build_registry(overrides=overrides, env={})
    except TierwiseError:
        return


@FAST
@given(st.dictionaries(st.sampled_from(["TIERWISE__STAGES__DRAFT__TIER", "TIERWISE__RESILIENCE__BASE_DELAY_S",
                                        "TIERWISE__THRESHOLDS__CONFIDENCE", "TIERWISE__ENDPOINT__BASE_URL",
                                        "TIERWISE__X"]), ANY_TEXT.filter(lambda t: "\x00" not in t), max_size=3))
def test_registry_environment_variables(env):
    from tierwise import build_registry

    with contextlib.suppress(TierwiseError):
        build_registry(env=env)


@FAST
@given(st.text() | st.sampled_from(["http://", "https://:1", "http://[::1", "http://h:0", "http://h:65536",
                                    "HTTP://h", "http://h/p?q#f", "http://u@h"]))
def test_base_url_parser(url):
    from tierwise.strict import url_problem

    problem = url_problem(url)
    if problem is None:
        from urllib.parse import urlsplit

        parts = urlsplit(url.strip())
        assert parts.scheme.lower() in ("http", "https") and parts.hostname


# ------------------------------------------------------------------ the CLI, in process
def _run_cli(args: list[str], files: dict[str, str]) -> None:
    """Run `tierwise args` in a fresh folder holding `files`; check the CLI properties."""
    with tempfile.TemporaryDirectory() as folder:
        old = os.getcwd()
        os.chdir(folder)
        try:
            for name, text in files.items():
                Path(name).write_text(text, encoding="utf-8", errors="surrogatepass")
            before = set(os.listdir("."))
            result = runner.invoke(app, args)
            after = set(os.listdir("."))
        finally:
            os.chdir(old)
    output = result.output
    assert result.exit_code in (0, 1, 2), (args, output, result.exception)
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), (args, repr(result.exception))
    if result.exit_code == 2:
        click_usage = "Usage:" in output or "─ Error ─" in output  # click's own refusal of the command line
        assert sum(line.startswith("error:") for line in output.splitlines()) == 1 or click_usage, output
    named = {Path(a).name for a in args}
    allowed = named | {f"{n}{suffix}" for n in named for suffix in (".batch.json", ".cache.db", ".cache.db-wal",
                                                                     ".cache.db-shm", ".unwritten.jsonl")}
    assert after - before <= allowed, (args, sorted(after - before))


@CLI
@given(ANY_TEXT, st.sampled_from(["-j", "--concurrency"]), st.text(max_size=6) | st.sampled_from(["0", "1", "-1",
                                                                                                "1025", "nan"]))
def test_cli_batch(content, option, value):
    _run_cli(["batch", "in.jsonl", "--out", "out.jsonl", "--backend", "scripted", "--quiet", option, value],
             {"in.jsonl": content})


@CLI
@given(st.text(max_size=200) | st.sampled_from(["[thresholds]\nconfidence = nan", "x = " + "[" * 2000,
                                                 "[resilience]\nbase_delay_s = 0"]))
def test_cli_tiers(content):
    _run_cli(["tiers", "--check", "--registry", "r.toml"], {"r.toml": content})


@CLI
@given(ANY_TEXT, st.text(max_size=20))
def test_cli_eval(content, stages):
    _run_cli(["eval", "--cases", "cases.jsonl", "--stages", stages or "draft", "--out", "o.jsonl", "--backend",
              "scripted"], {"cases.jsonl": content})


@CLI
@given(st.lists(st.text(max_size=12) | st.sampled_from(["--out", "--resume", "--overwrite", "--retry-failed",
                                                        "--registry", "--base-url", "http://", "-j", "--json",
                                                        "run", "batch", "tiers", "eval", "suggest", "report",
                                                        "calibrate", "router", "train", "--outcomes"]),
                max_size=6))
def test_cli_argument_soup(argv):
    if argv[:1] == ["run"] and len(argv) > 1:
        argv = [*argv, "--backend", "scripted"]  # never the network: the scripted emulator answers
    if "emulator" in argv:
        return  # serves until stopped
    _run_cli(argv, {})
