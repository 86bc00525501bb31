"""The bad-input catalogue: each mistake gets a clear message in the user's terms, before any model call, with
no traceback from the CLI and nothing half-done (no model request, no ledger row)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest
from pipeline import pipeline_rules
from typer.testing import CliRunner

from tierwise import Context, InvalidInputError, RegistryError, TierwiseError, build_graph, call_stage
from tierwise.cli import app
from tierwise.errors import InvalidArgumentError

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}
FIVE_MB = "lorem ipsum " * (5 * 1024 * 1024 // 12)

GRAPH_INPUTS = [
    ("empty", {"input": ""}, "input is empty"),
    ("whitespace", {"input": " \n\t "}, "input is empty"),
    ("none", {"input": None}, "input must be text (str), got NoneType"),
    ("int", {"input": 7}, "input must be text (str), got int"),
    ("float", {"input": 1.5}, "got float"),
    ("bytes", {"input": b"\x00\xff binary"}, "input must be text, got bytes: decode it first"),
    ("list", {"input": ["a", "b"]}, "got list"),
    ("dict", {"input": {"text": "hi"}}, "got dict"),
    ("missing key", {"text": "hi"}, 'the request has no "input" key'),
    ("lone surrogate", {"input": "caf\udce9 order"}, "not valid Unicode text: a lone surrogate at position 3"),
    ("zero-width only", {"input": "\u200b\u200c\u200d\u2060\ufeff \n\u200b"}, "input is empty"),
    ("invisible fillers", {"input": "\u3164\u00ad\u2800"}, "input is empty"),
    ("task_type control char", {"input": "hi", "task_type": "a\nb"}, "task_type contains the control character"),
    ("task_type too long", {"input": "hi", "task_type": "x" * 500}, "task_type is 500 characters long"),
    ("5 MB text", {"input": FIVE_MB}, "the request is too long for stage '"),  # its first model stage
    ("task_type not text", {"input": "hi", "task_type": 3}, "task_type must be text (str), got int"),
    ("request_id not text", {"input": "hi", "request_id": ["x"]}, "request_id must be text (str), got list"),
]


def ledger_rows(tmp_path: Path) -> int:
    db = tmp_path / "ledger.db"
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        return conn.execute("select count(*) from tierwise_calls").fetchone()[0]


@pytest.mark.parametrize(("name", "payload", "message"), GRAPH_INPUTS, ids=[c[0] for c in GRAPH_INPUTS])
def test_graph_input(scripted, tmp_path, name, payload, message):
    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        build_graph().invoke(payload, context=context)
    assert emulator.requests == [] and ledger_rows(tmp_path) == 0


def test_a_prompt_over_every_models_window(scripted, tmp_path):
    small = {m: {"context_window": 1000} for m in ("gemini-3.1-flash-lite", "gemini-3.5-flash-lite",
                                                   "gemini-3.5-flash", "gemini-3.8-flash", "gemini-3.1-pro-preview")}
    (tmp_path / "tierwise.toml").write_text("".join(f'[models."{m}"]\ncontext_window = 1000\n' for m in small))
    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match=r"about 2,\d{3} tokens, and the largest context window among its "
                                                "models is 1,000 tokens"):
        build_graph().invoke({"input": "word " * 2000}, context=context)
    assert emulator.requests == []


CONTEXTS = [
    ({"draft_score_threshold": 0}, "draft_score_threshold must be a whole number from 1 to 10, got 0"),
    ({"draft_score_threshold": 11}, "got 11"),
    ({"draft_score_threshold": "high"}, "got 'high'"),
    ({"draft_score_threshold": 7.5}, "got 7.5"),
    ({"confidence_threshold": 1.5}, "confidence_threshold must be a number from 0 to 1, got 1.5"),
    ({"confidence_threshold": -0.1}, "got -0.1"),
    ({"backend": "quantum"}, "backend must be one of auto, gemini, vertex, local, scripted, got 'quantum'"),
    ({"base_url": "localhost:8080"}, "base_url must start with http:// or https://"),
    ({"registry_path": 42}, "registry_path must be text (str), got int"),
]


@pytest.mark.parametrize(("settings", "message"), CONTEXTS, ids=[str(c[0]) for c in CONTEXTS])
def test_context_settings(settings, message):
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        Context(**settings)


CALLS = [
    ("unknown stage", "sumarize", "hello", "unknown stage 'sumarize'; the registry declares: "),
    ("stage not text", 5, "hello", "unknown stage 5"),
    ("no messages", "draft", [], "non-empty list"),
    ("bad role", "draft", [("robot", "hi")], "unknown role 'robot'"),
    ("empty message", "draft", [("user", "")], "message 0 is empty"),
    ("bytes message", "draft", [("user", b"hi")], "message 0 must be text, got bytes"),
]


@pytest.mark.parametrize(("name", "stage", "messages", "message"), CALLS, ids=[c[0] for c in CALLS])
def test_call_stage(scripted, name, stage, messages, message):
    emulator, context = scripted([{"reply": "hi"}])
    with pytest.raises(TierwiseError, match=re.escape(message)):
        call_stage(stage, messages, context=context)
    assert emulator.requests == []


CALL_ARGUMENTS = [
    ("tools as text", {"tools": "search"}, "tools must be a list of LangChain tools"),
    ("a tool that is a number", {"tools": [1]}, "tools[0] must be a LangChain tool"),
    ("labels as a list", {"labels": [("route", "simple")]}, "labels must be a dict"),
    ("label key not text", {"labels": {1: "x"}}, "labels keys must be text"),
    ("route not text", {"labels": {"route": object()}}, "labels['route'] must be text (str), got object"),
    ("request id on two lines", {"labels": {"request_id": "a\nb"}}, "labels['request_id'] contains the control"),
    ("escalated not a bool", {"labels": {"escalated": "yes"}}, "labels['escalated'] must be True, False or None"),
    ("purpose not text", {"labels": {"purpose": 3}}, "labels['purpose'] must be text"),
    ("label that is no JSON", {"labels": {"team": {1, 2}}}, "labels['team'] must be JSON"),
]


@pytest.mark.parametrize(("name", "arguments", "message"), CALL_ARGUMENTS, ids=[c[0] for c in CALL_ARGUMENTS])
def test_call_stage_arguments(scripted, name, arguments, message):
    """Refused by name before any call: a bad label would otherwise fail the billed record after the call."""
    emulator, context = scripted([{"reply": "hi"}])
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        call_stage("draft", "hello", context=context, **arguments)
    assert emulator.requests == []


def test_labels_that_are_json_pass(scripted):
    _, context = scripted([{"reply": "hi"}])
    labels = {"route": "simple", "escalated": False, "request_id": "r" * 1000, "team": ["a", {"b": 1}]}
    assert call_stage("draft", "hello", context=context, labels=labels).value == "hi"


REGISTRY_FILES = [
    ("not TOML", "[stages.draft\n", "bad.toml:1: not valid TOML"),
    ("unknown tier", "[stages.draft]\ntier = 'ultra'\n", "stages.draft.tier: unknown tier 'ultra'"),
    ("stage without a tier", "[stages.summarise]\ntemperature = 0.2\n", "stages.summarise.tier: Field required"),
    ("missing tier declaration", "tier_order = ['lite', 'flash', 'pro', 'max']\n", "tier_order: lists"),
    ("negative price", "[[models.'gemini-3.8-flash'.prices]]\neffective = 2026-01-01\ninput = -1.0\noutput = 3.0\n",
     "Input should be greater than or equal to 0"),
    ("bad date", "[models.'gemini-3.8-flash']\nshutdown = 'next spring'\n", "models.gemini-3.8-flash.shutdown"),
    ("past shutdown", "[models.'gemini-old']\ntier = 'lite'\ncontext_window = 1000\nshutdown = 2020-01-01\n"
     "replacement = 'gemini-3.5-flash-lite'\nprices = [{effective = 2019-01-01, input = 1.0, output = 1.0}]\n"
     "[tiers.lite]\nmodel = 'gemini-old'\n", "gemini-old was shut down on 2020-01-01; switch to gemini-3.5-flash-lite"),
    ("typo in a key", "[thresholds]\ndraft_scroe = 8\n", "thresholds.draft_scroe: Extra inputs are not permitted"),
    ("invalid threshold", "[thresholds]\ndraft_score = 0\n", "thresholds.draft_score"),
    ("critical falls down", "[stages.reason]\nfallbacks = ['lite']\n", "a critical stage never falls back"),
    ("uncertain band out of range", "[router]\nhybrid_margin = 2\n", "router.hybrid_margin"),
]

runner = CliRunner()


@pytest.mark.parametrize(("name", "text", "message"), REGISTRY_FILES, ids=[c[0] for c in REGISTRY_FILES])
def test_registry_file(tmp_path, name, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(RegistryError, match=re.escape(message)):
        from tierwise import build_registry

        build_registry(path)
    for args in (["tiers", "--registry", str(path)], ["run", "hi", "--backend", "scripted", "--registry", str(path)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(tmp_path) == 0


def test_bad_environment_override_names_the_variable_key(monkeypatch, tmp_path):
    monkeypatch.setenv("TIERWISE__THRESHOLDS__DRAFT_SCORE", "eleven")
    result = runner.invoke(app, ["run", "hi", "--backend", "scripted"])
    assert result.exit_code == 2 and "thresholds.draft_score" in result.output and "environment" in result.output


CLI = [
    ("empty argument", ["run", ""], None, "error: input is empty"),
    ("binary stdin", ["run", "-"], b"\xff\xfe\x00binary", "error: standard input is not UTF-8 text (byte 0)"),
    ("threshold out of range", ["run", "hi", "--draft-threshold", "11"], None, "Invalid value for '--draft-threshold'"),
    ("unknown command", ["fly"], None, "No such command 'fly'"),
    ("missing registry", ["tiers", "--registry", "nowhere.toml"], None, "nowhere.toml: no such registry file"),
]


@pytest.mark.parametrize(("name", "args", "stdin", "message"), CLI, ids=[c[0] for c in CLI])
def test_cli(tmp_path, name, args, stdin, message):
    result = runner.invoke(app, [*args, *(["--backend", "scripted"] if args[0] == "run" else [])], input=stdin)
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output
    assert ledger_rows(tmp_path) == 0


# ---- Bad input loses nothing (issue 13): outputs, numbers, markup, the Python API ---------------------------------

import json  # noqa: E402
import os  # noqa: E402

from tierwise.outputs import check_output, save_with_fallback  # noqa: E402

DRAFT_OK = {"answer": "Refund it.", "confidence": "high"}
JUDGE_OK = {"score": 9, "reason": "Correct."}


def refused(args, *, stdin=None, code=2):
    """Run the CLI; it must exit `code` with one `error:` line and no traceback. Returns the output."""
    result = runner.invoke(app, args, input=stdin)
    assert result.exit_code == code, result.output
    assert ("error:" in result.output or "Invalid value" in result.output) and "Traceback" not in result.output, \
        result.output
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.output


def items(path, texts):
    path.write_text("".join(json.dumps({"id": f"t{i}", "input": t}) + "\n" for i, t in enumerate(texts)))
    return path


@pytest.fixture
def batch_env(scripted, tmp_path):
    emulator, _ = scripted(pipeline_rules(triage=SIMPLE, draft=DRAFT_OK, judge=JUDGE_OK))
    inp = items(tmp_path / "in.jsonl", ["one", "two"])

    def batch(*args, code=2):
        return refused(["batch", *args, "--base-url", emulator.base_url, "-q"], code=code)

    def ok(*args):
        result = runner.invoke(app, ["batch", *args, "--base-url", emulator.base_url, "-q"])
        assert result.exit_code == 0, result.output
        return result.output

    return emulator, inp, batch, ok


@pytest.mark.parametrize("how", ["same path", "relative", "symlink", "hard link"])
def test_batch_refuses_an_output_that_is_the_input(batch_env, tmp_path, how):
    emulator, inp, batch, _ = batch_env
    before = inp.read_bytes()
    out = {"same path": str(inp), "relative": "./in.jsonl", "symlink": tmp_path / "link.jsonl",
           "hard link": tmp_path / "hard.jsonl"}[how]
    if how == "symlink":
        out.symlink_to(inp)
    if how == "hard link":
        os.link(inp, out)
    message = batch(str(inp), "--out", str(out), "--resume", "--retry-failed")
    assert "is the input" in message
    assert inp.read_bytes() == before and emulator.requests == []


def test_batch_resume_refuses_an_unrelated_file(batch_env, tmp_path):
    emulator, inp, batch, _ = batch_env
    notes = tmp_path / "notes.txt"
    notes.write_text("call the bank\nbuy milk")  # no newline at the end: once cut as a "torn last line"
    message = batch(str(inp), "--out", str(notes), "--resume")
    assert "was not written by `tierwise batch`" in message
    assert notes.read_text() == "call the bank\nbuy milk" and emulator.requests == []
    message = batch(str(inp), "--out", str(notes), "--overwrite")
    assert "is not a tierwise batch output" in message and notes.read_text() == "call the bank\nbuy milk"


def test_batch_resume_refuses_another_input_and_accepts_an_appended_one(batch_env, tmp_path):
    emulator, inp, batch, ok = batch_env
    out = tmp_path / "out.jsonl"
    ok(str(inp), "--out", str(out))
    first = out.read_text()
    asked = len(emulator.requests)
    other = items(tmp_path / "other.jsonl", ["three", "four"])  # same ids t0, t1: other requests
    message = batch(str(other), "--out", str(out), "--resume")
    assert "holds results of another input" in message and "line 1 (id 't0') and 1 more" in message
    assert out.read_text() == first and len(emulator.requests) == asked
    items(inp, ["one", "two", "three"])  # appending is fine: only the new line runs
    ok(str(inp), "--out", str(out), "--resume")
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == ["t0", "t1", "t2"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda tmp: tmp, "is a folder"),
    (lambda tmp: "/proc/self/out.jsonl", "is a system path"),
    (lambda tmp: "/dev/full", "is a system path"),
    (lambda tmp: "", "is a folder"),  # typer reads "" as "."
])
def test_batch_refuses_outputs_that_cannot_take_results(batch_env, tmp_path, make, message):
    emulator, inp, batch, _ = batch_env
    assert message in batch(str(inp), "--out", str(make(tmp_path)))
    assert emulator.requests == []


def test_run_batch_checks_its_arguments_before_any_call(scripted, tmp_path):
    from tierwise.batch import run_batch
    from tierwise.errors import InvalidArgumentError

    emulator, context = scripted(pipeline_rules(triage=SIMPLE))
    inp = items(tmp_path / "in.jsonl", ["one"])
    for concurrency in (0, -1, "4", 1.5, True, 10**9):
        with pytest.raises(InvalidArgumentError, match="concurrency must be a whole number from 1 to 1024"):
            run_batch(inp, tmp_path / "out.jsonl", context=context, concurrency=concurrency)
    with pytest.raises(InvalidArgumentError, match="context has no setting 'base_ulr'; did you mean 'base_url'"):
        run_batch(inp, tmp_path / "out.jsonl", context={"base_ulr": emulator.base_url})
    with pytest.raises(InvalidArgumentError, match="context must be a tierwise.Context or a dict"):
        run_batch(inp, tmp_path / "out.jsonl", context="scripted")
    assert emulator.requests == [] and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(("context", "message"), [
    ({"base_ulr": "http://127.0.0.1:1"}, "context has no setting 'base_ulr'; did you mean 'base_url'?"),
    ({"backend": "quantum"}, "backend must be one of"),
    ({"draft_score_threshold": float("nan")}, "draft_score_threshold must be a whole number"),
    ({"confidence_threshold": float("inf")}, "confidence_threshold must be a number from 0 to 1, got inf"),
    ({"confidence_threshold": float("nan")}, "confidence_threshold must be a number from 0 to 1, got nan"),
])
def test_a_wrong_context_is_named_before_any_call(scripted, context, message):
    emulator, _ = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        build_graph().invoke({"input": "hi"}, context=context)
    assert emulator.requests == []


def test_a_context_of_the_wrong_type_is_named(scripted):
    from tierwise.context import coerce_context

    for value in ("scripted", 3, ["backend"]):
        with pytest.raises(InvalidInputError, match="context must be a tierwise.Context or a dict"):
            coerce_context(value)
    assert coerce_context({"backend": "scripted"}) == Context(backend="scripted")


@pytest.mark.parametrize("schema", [dict, "Invoice", 42, None])
def test_extract_schema_must_be_a_pydantic_class_before_any_call(scripted, schema):
    from tierwise.errors import InvalidArgumentError

    emulator, _ = scripted(pipeline_rules(triage=SIMPLE))
    with pytest.raises(InvalidArgumentError, match="extract_schema must be a pydantic model class"):
        build_graph(extract_schema=schema)
    assert emulator.requests == []


def test_extract_schema_instance_says_pass_the_class(scripted):
    from tierwise.state import Extraction

    with pytest.raises(InvalidInputError, match="got an instance of Extraction: pass the class itself"):
        build_graph(extract_schema=Extraction(task="t", fields=[]))


def write_cases(path, n=2):
    path.write_text("".join(json.dumps({"id": f"c{i}", "input": f"question {i}", "reference": "right"}) + "\n"
                            for i in range(n)))
    return path


@pytest.mark.parametrize(("option", "make", "message"), [
    ("--out", lambda tmp: tmp / "results.txt", "unknown extension '.txt'"),
    ("--out", lambda tmp: "/dev/full", "is a system path"),
    ("--out", lambda tmp: tmp, "is a folder"),
    ("--out", lambda tmp: "/proc/self/eval.csv", "is a system path"),
    ("--out", lambda tmp: tmp / "cases.jsonl", "is the input"),
    ("--html", lambda tmp: tmp / "missing" / "eval.html", "does not exist"),
    ("--html", lambda tmp: tmp / "eval.svg", "unknown extension '.svg'"),
    ("--png", lambda tmp: "/sys/eval.png", "is a system path"),
    ("--png", lambda tmp: tmp / "eval.jpg", "unknown extension '.jpg'"),
])
def test_eval_checks_every_output_before_any_model_call(scripted, tmp_path, option, make, message):
    emulator, _ = scripted([{"reply": "right"}])
    cases = write_cases(tmp_path / "cases.jsonl")
    args = ["eval", "--cases", str(cases), "--tiers", "lite", "--base-url", emulator.base_url]
    if option != "--out":
        args += ["--out", str(tmp_path / "eval.csv")]
    output = refused([*args, option, str(make(tmp_path))])
    assert message in output and emulator.requests == [] and ledger_rows(tmp_path) == 0


def test_results_paid_for_go_to_a_fallback_file_when_the_target_fails_at_the_end(tmp_path):
    gone = tmp_path / "gone"
    gone.mkdir()
    target = check_output(gone / "eval.csv", option="--out")  # fine when checked...
    gone.rmdir()  # ...and a file in its place by the time the results are written
    gone.write_text("")
    where, note = save_with_fallback(target, lambda tmp: tmp.write_text("prompt_id\nA1\n"), what="the table")
    assert where.parent == tmp_path and where.read_text() == "prompt_id\nA1\n"  # the current folder
    assert note.startswith(f"cannot write {target}: ") and note.endswith(f"; saved the table to {where} instead")


def test_atomic_writes_leave_the_old_file_when_the_writer_fails(tmp_path):
    from tierwise.outputs import atomic_path

    target = tmp_path / "router.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("killed mid-write")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["router.json"]


def test_no_output_may_replace_a_device(tmp_path):
    for device in ("/dev/null", "/dev/full", "/dev/stdout"):
        with pytest.raises(TierwiseError, match="is a system path"):
            check_output(device, option="--out")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_is_refused(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(TierwiseError, match="cannot write in"):
            check_output(folder / "out.csv", option="--out")
    finally:
        folder.chmod(0o755)


def make_ledger(tmp_path, task_type="support"):
    """A ledger with calls, made through the real pipeline."""
    from tierwise.emulator import Emulator, ScriptedBackend

    with Emulator(ScriptedBackend(pipeline_rules(triage=SIMPLE, draft=DRAFT_OK, judge=JUDGE_OK))) as emulator:
        result = runner.invoke(app, ["run", "hi", "--base-url", emulator.base_url, "--task-type", task_type])
    assert result.exit_code == 0, result.output
    return result.output


def test_markup_in_a_stored_task_type_does_not_break_report_or_run(tmp_path):
    shown = make_ledger(tmp_path, task_type="[/]")
    assert "Traceback" not in shown
    for task_type in ("[bold]x[/bold", "[/]", "[link=x]y"):
        make_ledger(tmp_path, task_type=task_type)
    result = runner.invoke(app, ["report"])
    assert result.exit_code == 0, result.output
    assert "[/]" in result.output and "[link=x]y" in result.output


def test_markup_in_paths_and_model_ids_does_not_break_tiers(tmp_path):
    folder = tmp_path / "a["
    folder.mkdir()
    registry = folder / "b]c.toml"  # the path holds "[/b]": a closing tag with nothing open, to rich
    registry.write_text("[thresholds]\ndraft_score = 8\n")
    result = runner.invoke(app, ["tiers", "--registry", str(registry)])
    assert result.exit_code == 0, result.output
    assert "a[/b]c.toml" in result.output.replace("\n", "")


@pytest.mark.parametrize(("args", "message"), [
    (["report", "--since", "99999999999d"], "--since: '99999999999d' reaches back before the year 1"),
    (["report", "--since", "3000000d"], "reaches back before the year 1"),
    (["suggest", "--window", "99999999999w"], "--window: '99999999999w' reaches back before the year 1"),
])
def test_spans_too_long_for_a_calendar(tmp_path, args, message):
    assert message in refused(args)


@pytest.mark.parametrize(("value", "message"), [
    ("abc", "unreadable schema version 'abc'"),
    ("", "unreadable schema version ''"),
    ("-1", "unreadable schema version '-1'"),
    ("99", "has schema version 99; this tierwise reads up to 1: upgrade tierwise"),
])
def test_a_hand_edited_schema_version_is_named_by_run_and_report(tmp_path, value, message):
    make_ledger(tmp_path)
    with sqlite3.connect(tmp_path / "ledger.db") as conn:
        conn.execute("UPDATE tierwise_meta SET value = ? WHERE key = 'schema_version'", (value,))
    from tierwise.runtime import reset_default_runtime

    reset_default_runtime()  # the ledger it had open was read before the edit
    assert message in refused(["report"]) and str(tmp_path / "ledger.db") in refused(["report"])
    output = refused(["run", "hi", "--backend", "scripted"], code=2)
    assert message in output


@pytest.mark.parametrize(("option", "make", "message"), [
    ("--html", lambda tmp: tmp, "is a folder"),
    ("--html", lambda tmp: "/proc/self/report.html", "is a system path"),
    ("--png", lambda tmp: tmp / "no" / "r.png", "does not exist"),
    ("--png", lambda tmp: tmp / "report.gif", "unknown extension '.gif'"),
    ("--html", lambda tmp: tmp / "ledger.db", "unknown extension '.db'"),
])
def test_report_checks_its_outputs(tmp_path, option, make, message):
    make_ledger(tmp_path)
    assert message in refused(["report", option, str(make(tmp_path))])


ROUTING = Path(__file__).parent / "data" / "routing" / "routellm_gsm8k_subset.csv"


@pytest.mark.parametrize(("args", "message"), [
    (["router", "train", "--outcomes", str(ROUTING), "--out", "/proc/self/router.json"], "is a system path"),
    (["router", "train", "--outcomes", str(ROUTING), "--out", "{tmp}"], "is a folder"),
    (["router", "train", "--outcomes", str(ROUTING), "--out", "{tmp}/router.pkl"], "unknown extension '.pkl'"),
    (["router", "train", "--outcomes", str(ROUTING), "--out", str(ROUTING)], "unknown extension '.csv'"),
    (["router", "train", "--outcomes", str(ROUTING), "--out", "{tmp}/r.json", "--l2", "inf"],
     "--l2 must be a finite number, got inf"),
    (["router", "train", "--outcomes", str(ROUTING), "--out", "{tmp}/r.json", "--l2", "-1"], "--l2 must be at least 0"),
    (["router", "train", "--outcomes", "{tmp}", "--out", "{tmp}/r.json"], ""),
    (["calibrate", "--outcomes", str(ROUTING), "--target", "inf", "--write", "{tmp}/t.toml"],
     "--target must be a finite number"),
    (["calibrate", "--outcomes", str(ROUTING), "--target", "nan", "--write", "{tmp}/t.toml"],
     "--target must be a finite number"),
    (["calibrate", "--outcomes", str(ROUTING), "--write", "/proc/self/t.toml"], "is a system path"),
    (["calibrate", "--outcomes", str(ROUTING), "--write", "{tmp}/t.toml", "--router-out", "{tmp}"], "is a folder"),
    (["router", "convert-routellm", "{tmp}", "--benchmark", "mmlu", "--out", "/proc/self/x.csv"], "is a system path"),
    (["router", "convert-routellm", "{tmp}", "--benchmark", "mmlu", "--out", "{tmp}"], "is a folder"),
    (["suggest", "--out", "/proc/self/s.toml"], "is a system path"),
    (["suggest", "--out", "{tmp}/s.txt"], "unknown extension '.txt'"),
    (["run", "hi", "--confidence-threshold", "nan"], "Invalid value for '--confidence-threshold'"),
])
def test_every_command_checks_outputs_and_numbers(tmp_path, args, message):
    output = refused([arg.replace("{tmp}", str(tmp_path)) for arg in args]
                     + (["--backend", "scripted"] if args[0] == "run" else []))
    assert message in output
    assert not (tmp_path / "router.json").exists()


def test_calibrate_into_a_bad_toml_writes_nothing(tmp_path):
    toml = tmp_path / "tierwise.toml"
    toml.write_text("[router\nstrategy = 'learned'\n")
    assert "not valid TOML" in refused(["calibrate", "--outcomes", str(ROUTING), "--write",
                                                            str(toml)])
    assert toml.read_text() == "[router\nstrategy = 'learned'\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tierwise.toml"]  # no router.json, no temp file
    toml.write_text("router = 3\n")
    assert "router is a int, not a [router] table" in refused(["calibrate", "--outcomes", str(ROUTING),
                                                               "--write", str(toml)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tierwise.toml"]


SWEEP = [
    ("batch: input is a folder", ["batch", "{tmp}", "--out", "{tmp}/o.jsonl"], None),
    ("batch: missing input", ["batch", "{tmp}/nope.jsonl", "--out", "{tmp}/o.jsonl"], None),
    ("batch: empty input", ["batch", "{tmp}/empty.jsonl", "--out", "{tmp}/o.jsonl"], None),
    ("batch: binary input", ["batch", "{tmp}/binary.bin", "--out", "{tmp}/o.jsonl"], None),
    ("batch: JSON array line", ["batch", "{tmp}/array.jsonl", "--out", "{tmp}/o.jsonl"], None),
    ("eval: cases is a folder", ["eval", "--cases", "{tmp}"], None),
    ("eval: empty cases", ["eval", "--cases", "{tmp}/empty.jsonl"], None),
    ("eval: binary cases", ["eval", "--cases", "{tmp}/binary.bin"], None),
    ("eval: wrong JSON types", ["eval", "--cases", "{tmp}/array.jsonl"], None),
    ("run: registry is a folder", ["run", "hi", "--registry", "{tmp}"], None),
    ("run: binary registry", ["run", "hi", "--registry", "{tmp}/binary.bin"], None),
    ("tiers: empty-named registry", ["tiers", "--registry", "{tmp}/nope.toml"], None),
    ("report: ledger is a folder", ["report", "--ledger", "sqlite:///{tmp}"], None),
    ("report: binary ledger", ["report", "--ledger", "sqlite:///{tmp}/binary.bin"], None),
    ("router train: outcomes is a folder", ["router", "train", "--outcomes", "{tmp}", "--out", "{tmp}/r.json"], None),
    ("router train: binary outcomes", ["router", "train", "--outcomes", "{tmp}/binary.csv", "--out", "{tmp}/r.json"],
     None),
    ("router eval: router is binary", ["router", "eval", "--router", "{tmp}/binary.json", "--outcomes", str(ROUTING)],
     None),
    ("calibrate: empty outcomes", ["calibrate", "--outcomes", "{tmp}/empty.csv", "--write", "{tmp}/t.toml"], None),
    ("suggest: evals is binary", ["suggest", "--evals", "{tmp}/binary.csv", "--out", "{tmp}/s.toml"], None),
    ("run: empty stdin", ["run", "-"], ""),
    ("run: zero-width stdin", ["run", "-"], "\u200b\u200d\ufeff"),
    ("run: huge threshold", ["run", "hi", "--draft-threshold", "99999999999999999999"], None),
    ("batch: negative concurrency", ["batch", "{tmp}/empty.jsonl", "--out", "{tmp}/o.jsonl", "-j", "-3"], None),
]


@pytest.mark.parametrize(("name", "args", "stdin"), SWEEP, ids=[c[0] for c in SWEEP])
def test_sweep_odd_inputs_never_show_a_traceback(tmp_path, name, args, stdin):
    (tmp_path / "empty.jsonl").write_text("")
    (tmp_path / "empty.csv").write_text("")
    for binary in ("binary.bin", "binary.csv", "binary.json"):
        (tmp_path / binary).write_bytes(b"\x89\xff\x00\x01garbage\x00" * 20)
    (tmp_path / "array.jsonl").write_text('["input", "hi"]\n')
    args = [arg.replace("{tmp}", str(tmp_path)) for arg in args]
    if args[0] in ("run", "batch", "eval"):
        args += ["--backend", "scripted"]
    refused(args, stdin=stdin)
    assert ledger_rows(tmp_path) == 0


def test_tools_of_every_kind_bind_tools_takes_pass(scripted):
    from google.genai import types
    from langchain_core.tools import tool
    from pydantic import BaseModel

    @tool
    def lookup(order: str) -> str:
        """Find an order."""
        return order

    def refund(order: str) -> str:
        """Refund an order."""
        return order

    class Escalate(BaseModel):
        """Hand the ticket to a person."""

        reason: str

    declared = types.Tool(function_declarations=[types.FunctionDeclaration(
        name="close", description="Close the ticket.", parameters={"type": "OBJECT", "properties": {}})])
    _, context = scripted([{"reply": "done"}])
    for tools in ([lookup], [refund], [Escalate], [declared], []):
        assert call_stage("agent_step", "hello", tools=tools, context=context).value is not None


GRAPH_OPTIONS = [
    ("build_graph", {"checkpointer": "memory"}, "checkpointer must be a LangGraph checkpoint saver"),
    ("build_graph", {"cache": "sqlite"}, "cache must be a LangGraph cache"),
    ("build_graph", {"cache_policy": 60}, "cache_policy must be a langgraph.types.CachePolicy"),
    ("build_graph", {"name": 5}, "name must be text"),
    ("build_content_graph", {"checkpointer": 1}, "checkpointer must be"),
    ("build_agentic_graph", {"max_rounds": 0}, "max_rounds must be a whole number from 1 to 50, got 0"),
    ("build_agentic_graph", {"max_rounds": 2.5}, "max_rounds must be a whole number"),
    ("build_agentic_graph", {"tools": "search"}, "tools must be a list of LangChain tools, got str"),
    ("build_agentic_graph", {"tools": [len]}, "tools[0] must be a LangChain tool (decorate the function"),
    ("build_agentic_graph", {"search_tool": "web"}, "search_tool must have a search(query, k) method"),
    ("build_research_graph", {"per_query": 0}, "per_query must be a whole number from 1 to 50"),
    ("build_research_graph", {"max_documents": -1}, "max_documents must be a whole number from 1 to 200"),
    ("build_research_graph", {"search_tool": 5}, "search_tool must have a search(query, k) method"),
]


@pytest.mark.parametrize(("builder", "options", "message"), GRAPH_OPTIONS,
                         ids=[f"{b}-{next(iter(o))}" for b, o, _ in GRAPH_OPTIONS])
def test_graph_builders_refuse_bad_options_by_name(builder, options, message):
    import tierwise.graph

    build = getattr(tierwise.graph, builder)
    with pytest.raises(InvalidArgumentError, match=re.escape(message)):
        build(**options)


@pytest.mark.parametrize("path", [None, 5, ""])
def test_run_batch_paths_must_be_paths(path, tmp_path):
    from tierwise.batch import run_batch

    with pytest.raises(InvalidArgumentError, match="input_path must be a file path"):
        run_batch(path, tmp_path / "out.jsonl")
    with pytest.raises(InvalidArgumentError, match="out must be a file path"):
        run_batch(tmp_path / "in.jsonl", path)
