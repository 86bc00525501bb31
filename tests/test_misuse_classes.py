"""Misuse, round 3: each class of failure with several examples, none of them the issue's own.

Each class is closed by construction (tierwise/strict.py, tierwise/locks.py, the CLI's one error handler, the
served-tier rule, named_arguments, the checked graph); these tests hold the class, not one case of it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierwise import build_graph, build_registry
from tierwise.cli import app
from tierwise.errors import InputFileError, InvalidArgumentError, InvalidInputError, OutputLockedError, RegistryError
from tierwise.locks import OutputLock
from tierwise.strict import loads_json, loads_toml

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def refused(args, code=2):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (RecursionError, TypeError))
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    return result.output


def batch(tmp_path, lines, *extra):
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["batch", source, "--out", tmp_path / "out.jsonl", "--backend", "scripted", "--quiet", *extra]


# ------------------------------------------------------------------ class 1: strict parsing, one error type
HOSTILE_JSON = [
    ('{"input": "x", "metadata": {"a": Infinity}}', "Infinity is not strict JSON"),
    ('{"input": "x", "metadata": {"a": -Infinity}}', "-Infinity is not strict JSON"),
    ('{"input": "x", "metadata": {"a": 1e400}}', "too large"),
    ('{"input": "x", "id": ' + "1" * 300 + "}", "300 characters"),
    ('{"input": "x", "metadata": ' + '{"a":' * 200 + "1" + "}" * 200 + "}", "nested deeper than 64"),
    ('{"input": "x", "input": "y"}', "appears twice"),
    ('{"input": "x", "metadata": {"a": "\\ud800"}}', "lone surrogate"),
]


@pytest.mark.parametrize(("line", "message"), HOSTILE_JSON)
def test_hostile_json_in_a_batch_is_one_error_line(tmp_path, line, message):
    assert message in refused(batch(tmp_path, [line]))
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(("line", "message"), HOSTILE_JSON)
def test_hostile_json_in_eval_cases_names_the_line(tmp_path, line, message):
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"input": "fine", "reference": "x"}\n' + line.replace('"metadata"', '"state"')
                     .replace('"id"', '"reference"') + "\n", encoding="utf-8")
    out = refused(["eval", "--cases", cases, "--stages", "draft", "--out", tmp_path / "o.jsonl",
                   "--backend", "scripted"])
    assert "cases.jsonl:2" in out


def test_hostile_json_in_an_outcome_table(tmp_path):
    table = tmp_path / "t.jsonl"
    table.write_text('{"prompt": "a", "model": "m", "quality": NaN, "cost_usd": 1}\n', encoding="utf-8")
    assert "t.jsonl:1: NaN is not strict JSON" in refused(["router", "train", "--outcomes", table, "--out",
                                                           tmp_path / "r.json"])


def test_deep_toml_and_huge_integers_are_clean_errors(tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("x = " + "[" * 5000 + "]" * 5000 + "\n")
    assert "nested deeper" in refused(["tiers", "--registry", deep])
    huge = tmp_path / "huge.toml"
    huge.write_text("[thresholds]\ndraft_score = " + "9" * 5000 + "\n")
    assert "huge.toml" in refused(["tiers", "--registry", huge])
    nan = tmp_path / "nan.toml"
    nan.write_text("[thresholds]\nconfidence = nan\n")
    assert "not a finite number" in refused(["tiers", "--registry", nan])


@pytest.mark.parametrize(("toml", "message"), [
    ('[[models."gemini-3.8-flash".prices]]\neffective = 2027-01-01\ninput = 1.0\noutput = false\n',
     "prices.0.output: Input should be a valid number"),
    ("[thresholds]\ndraft_score = true\n", "thresholds.draft_score: Input should be a valid integer"),
    ("[thresholds]\ndraft_score = 7.0\n", "thresholds.draft_score: Input should be a valid integer"),
    ('[stages.draft]\ncritical = "yes"\n', "stages.draft.critical: Input should be a valid boolean"),
    ('[stages.draft]\ntier = 3\n', "stages.draft.tier: Input should be a valid string"),
    ('[models."gemini-3.8-flash"]\nshutdown = 2027-05-01T12:00:00Z\n', "a date is YYYY-MM-DD"),
    ('[models."gemini-3.8-flash"]\nshutdown = "2027-05-01 12:00"\n', "a date is YYYY-MM-DD"),
    ('[[models."gemini-2.0-nope".prices]]\neffective = 2027-01-01\ninput = 1.0\noutput = 2.0\n',
     "a price override for the unknown model 'gemini-2.0-nope'"),
    ('[models."gemini-3.8-flsh"]\ncontext_window = 5\n', "settings for the unknown model 'gemini-3.8-flsh'"),
    ("[resilience]\nmax_delay_s = 0\n", "resilience.max_delay_s"),
    ("[resilience]\nbase_delay_s = 5\nmax_delay_s = 1\n", "below base_delay_s"),
    ("[resilience]\nmax_attempts = 100000\n", "resilience.max_attempts"),
    ('[endpoint]\nbase_url = "https://"\n', "base_url has no host"),
    ("[thresholds]\ndraft_scor = 7\n", "Extra inputs are not permitted"),
])
def test_registry_values_are_strict(tmp_path, toml, message):
    path = tmp_path / "r.toml"
    path.write_text(toml, encoding="utf-8")
    for args in (["tiers", "--registry", path], ["tiers", "--check", "--registry", path]):
        assert message in refused(args)
    with pytest.raises(RegistryError, match="r.toml|invalid registry"):
        build_registry(path)


def test_every_file_error_is_one_type_naming_file_line_and_field(tmp_path):
    with pytest.raises(InputFileError) as caught:
        loads_json('{"a": NaN}', source="f.jsonl", line=3)
    assert (caught.value.source, caught.value.line, str(caught.value)) == (
        "f.jsonl", 3, "f.jsonl:3: NaN is not strict JSON (no NaN or Infinity); write null or a finite number")
    with pytest.raises(InputFileError) as caught:
        loads_toml("a = 1\nb = = 2\n", source="r.toml")
    assert caught.value.line == 2 and str(caught.value).startswith("r.toml:2: not valid TOML")


@pytest.mark.parametrize("edit", [
    lambda e: e | {"total_cost_usd": "0.5"},
    lambda e: e | {"status": "done"},
    lambda e: e | {"id": 1.5},
    lambda e: e | {"total_cost_usd": -1},
    lambda e: e | {"surprise": 1},
])
def test_a_hand_edited_output_line_is_named_on_resume(tmp_path, edit):
    args = batch(tmp_path, ['{"id": "a", "input": "hello"}', '{"id": "b", "input": "there"}'])
    assert runner.invoke(app, [str(a) for a in args]).exit_code == 0
    out = tmp_path / "out.jsonl"
    first, second = out.read_text().splitlines()
    out.write_text(json.dumps(edit(json.loads(first))) + "\n" + second + "\n")
    message = refused([*args, "--resume"])
    assert "out.jsonl:1:" in message and "edited by hand" in message


# ------------------------------------------------------------------ class 2: one writer per output
def test_a_second_lock_is_refused_naming_the_holder(tmp_path):
    target = tmp_path / "out.jsonl"
    with OutputLock(target, what="--out out.jsonl"):
        with pytest.raises(OutputLockedError, match=f"pid {os.getpid()}"):
            OutputLock(target, what="--out out.jsonl").acquire()
    with OutputLock(target, what="again"):  # released: the next writer gets it
        pass
    assert not (tmp_path / "out.jsonl.lock").exists()


def test_a_lock_dies_with_its_process(tmp_path):
    target = tmp_path / "out.jsonl"
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        from tierwise.locks import OutputLock
        OutputLock({str(target)!r}, what="x").acquire()
        print("held", flush=True)
        time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(OutputLockedError, match=f"pid {holder.pid}"):
            OutputLock(target, what="x").acquire()
    finally:
        holder.kill()
        holder.wait()
    OutputLock(target, what="x").acquire().release()  # kill -9 left no stale lock


def test_two_batches_on_one_output_one_is_refused_at_once(tmp_path):
    """The concurrency test: two real `tierwise batch` processes on one --out, against a slow scripted emulator.
    One finishes with every line whole and once; the other is refused before it calls anything."""
    rules = tmp_path / "rules.toml"
    rules.write_text('[[rules]]\nreply = "ok"\ndelay_ms = 150\n', encoding="utf-8")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": f"i{n}", "input": f"question {n}"}) + "\n" for n in range(12)))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    emulator = subprocess.Popen([sys.executable, "-m", "tierwise.cli", "emulator", "--port", "0", "--script",
                                 str(rules), "--lenient"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert emulator.stderr is not None
        url = emulator.stderr.readline().split(" on ", 1)[1].split(" ", 1)[0]
        command = [sys.executable, "-m", "tierwise.cli", "batch", str(source), "--out", str(tmp_path / "out.jsonl"),
                   "--base-url", url, "--quiet", "-j", "2"]
        first = subprocess.Popen(command, stderr=subprocess.PIPE, text=True, env=env)
        lock = tmp_path / "out.jsonl.lock"
        for _ in range(400):  # wait until the first run holds the output
            if lock.exists() and lock.read_text().strip():
                break
            subprocess.run(["sleep", "0.05"])
        second = subprocess.run([*command, "--resume"], capture_output=True, text=True, env=env)
        assert second.returncode == 2, second.stderr
        assert f"pid {first.pid}" in second.stderr and "Traceback" not in second.stderr
        _, errors = first.communicate(timeout=300)
        assert first.returncode in (0, 1), errors
    finally:
        emulator.kill()
        emulator.wait()
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert sorted(line["id"] for line in lines) == sorted(f"i{n}" for n in range(12))  # each once, all whole


def test_two_recorders_on_one_folder(tmp_path):
    from tierwise.emulator import Emulator

    first = Emulator(None, record=tmp_path / "tape", upstream="http://127.0.0.1:9").start()
    try:
        with pytest.raises(OutputLockedError, match=f"pid {os.getpid()}"):
            Emulator(None, record=tmp_path / "tape", upstream="http://127.0.0.1:9").start()
    finally:
        first.stop()


# ------------------------------------------------------------------ class 3: check before paying
def test_record_into_a_file_or_under_a_file_is_refused_before_any_call(tmp_path):
    (tmp_path / "file").write_text("x")
    for target in (tmp_path / "file", tmp_path / "file" / "tape"):
        assert "record:" in refused(["emulator", "--record", target, "--upstream", "http://127.0.0.1:9",
                                     "--port", "0"])
    assert (tmp_path / "file").read_text() == "x"


def test_an_eval_case_refused_mid_run_keeps_the_paid_outcomes(tmp_path):
    from tierwise.evals import load_cases

    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"input": "a"}\n{"input": "b", "task_type": "bad\\u0007label"}\n', encoding="utf-8")
    with pytest.raises(InputFileError, match="cases.jsonl:2: .*control character"):
        load_cases(cases)  # refused when read: before the first case is run and billed


# ------------------------------------------------------------------ class 4: configuration errors
@pytest.mark.parametrize("url", ["http://", "https://:443", "http:///path", "ftp://host", "http://h:99999",
                                 "http://a b", "http://u:p@host", "http://host?x=1"])
def test_unusable_base_urls_fail_at_once_naming_the_setting(tmp_path, url, monkeypatch):
    assert "base_url" in refused(["run", "hi", "--backend", "scripted", "--base-url", url])
    monkeypatch.setenv("TIERWISE_BASE_URL", url)
    message = refused(["run", "hello", "--backend", "auto"], code=2)
    assert message.startswith("error: TIERWISE_BASE_URL ")
    assert "p@host" not in message  # a password in a URL is never echoed


def test_retry_settings_never_spin_or_overflow():
    from tierwise.calls.loop import backoff

    settings = build_registry(overrides={"resilience": {"base_delay_s": 0.01, "max_delay_s": 0.01}}).data.resilience
    assert 0.0049 <= backoff(settings, 10_000, None, limit=None) <= 0.01  # 2 ** 10000: no OverflowError
    with pytest.raises(RegistryError, match="base_delay_s"):
        build_registry(overrides={"resilience": {"base_delay_s": 0}})


# ------------------------------------------------------------------ class 5: the tier billed
@pytest.mark.parametrize(("sent", "reported", "offered", "billed"), [
    ("standard", "priority", ["standard", "flex", "priority"], "standard"),  # above the one sent
    ("flex", "standard", ["standard", "flex"], "flex"),  # above the one sent
    ("flex", "priority", ["standard", "flex", "priority"], "flex"),
    ("standard", "flex", ["standard"], "flex"),  # not offered: the lower price, logged
    ("priority", "standard", ["standard", "priority"], "standard"),  # served lower: billed lower
    ("standard", "batch", ["standard"], "standard"),
])
def test_the_tier_billed_is_never_above_the_tier_sent(sent, reported, offered, billed, caplog):
    from tierwise.tiers import served_tier
    from tierwise.tiers.schema import DEFAULT_SERVICE_TIERS

    assert served_tier(sent, reported, offered=offered, factors=DEFAULT_SERVICE_TIERS) == billed


# ------------------------------------------------------------------ class 6: stored state
def _cassette(tmp_path, document):
    folder = tmp_path / "tape" / "gemini-3.8-flash"
    folder.mkdir(parents=True)
    (folder / "generateContent-abc.json").write_text(json.dumps(document), encoding="utf-8")
    return tmp_path / "tape"


GOOD = {"api": "gemini", "model": "gemini-3.8-flash", "method": "generateContent", "sse": False, "key": "abc",
        "request": {}, "responses": [{"status": 200, "body": {}}]}


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d | {"responses": [{"body": {}}]}, "responses.0.status: Field required"),
    (lambda d: d | {"responses": [{"status": "200", "body": {}}]}, "responses.0.status"),
    (lambda d: d | {"responses": [{"status": 9000}]}, "responses.0.status"),
    (lambda d: d | {"sse": "no"}, "sse"),
    (lambda d: d | {"responses": "all"}, "responses"),
    (lambda d: d | {"extra": 1}, "extra"),
])
def test_a_hand_edited_cassette_is_named_when_replay_starts(tmp_path, edit, message):
    tape = _cassette(tmp_path, edit(dict(GOOD)))
    assert message in refused(["emulator", "--replay", tape, "--port", "0"])


def test_a_model_id_cannot_leave_the_cassette_folder(tmp_path):
    from tierwise.emulator import BackendError
    from tierwise.emulator.record import Call, Cassette

    cassette = Cassette(tmp_path / "tape")
    for model in ("..", ".", ".hidden", "", "../../etc"):
        with pytest.raises(BackendError, match="Invalid model name"):
            cassette.path(Call("gemini", model, "generateContent", False, {}))
    assert cassette.path(Call("gemini", "a/../../b", "generateContent", False, {})).resolve().is_relative_to(
        (tmp_path / "tape").resolve())


def test_a_junk_stage_cache_is_a_warning(tmp_path, caplog):
    from tierwise.batch import StageCache

    db = tmp_path / "out.jsonl.cache.db"
    db.write_bytes(b"this is not a database" * 100)
    cache = StageCache(db)
    assert cache.get([(("triage",), "k")]) == {}
    cache.close()
    assert "unusable" in caplog.text and list(tmp_path.glob("*.unusable-*"))


# ------------------------------------------------------------------ class 7: Python API arguments
@pytest.mark.parametrize("call", [
    lambda: build_graph(extract_shema=dict),
    lambda: build_graph(None),
    lambda: build_registry(overrides="x"),
    lambda: build_registry(env=["A=1"]),
    lambda: __import__("tierwise").StageCall("draft"),
    lambda: __import__("tierwise").call_stage("draft", "hi", contxt={}),
    lambda: __import__("tierwise.emulator", fromlist=["x"]).Emulator(object()),
    lambda: __import__("tierwise.emulator", fromlist=["x"]).ScriptedBackend("rules.toml"),
])
def test_api_misuse_is_an_invalid_argument_error(call):
    with pytest.raises(InvalidArgumentError):
        call()


@pytest.mark.parametrize(("payload", "message"), [
    ({"input": "hi", "task_typ": "x"}, "did you mean 'task_type'"),
    ({"input": "hi", "requestid": "x"}, "did you mean 'request_id'"),
    ({"input": "hi", "metadata": {}}, "unknown input key 'metadata'"),
    ({"prompt": "hi"}, 'no "input" key'),
    ("hi", "is a dict"),
])
def test_a_misspelt_graph_input_key_is_refused(payload, message):
    graph = build_graph()
    with pytest.raises(InvalidInputError, match=message):
        graph.invoke(payload, context={"backend": "scripted"})
    # LangGraph's copies (with_config, bound runtimes) keep the check and the keys worked out for it
    with pytest.raises(InvalidInputError, match=message):
        graph.with_config(tags=["copy"]).invoke(payload, context={"backend": "scripted"})


@pytest.mark.parametrize(("env", "message"), [
    ({"GOOGLE_API_KEY": "AIza-secret-key\n"}, "GOOGLE_API_KEY holds a space, a line break"),
    ({"GEMINI_API_KEY": "clé-secrète"}, "GEMINI_API_KEY holds"),
    ({"GOOGLE_CLOUD_PROJECT": "my project"}, "GOOGLE_CLOUD_PROJECT"),
    ({"GOOGLE_CLOUD_PROJECT": "p", "GOOGLE_CLOUD_LOCATION": "../evil"}, "GOOGLE_CLOUD_LOCATION"),
])
def test_unusable_credentials_settings_fail_at_once(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    backend = "vertex" if "GOOGLE_CLOUD_PROJECT" in env else "gemini"
    output = refused(["run", "hello", "--backend", backend])
    assert message in output and "secret" not in output and "secrète" not in output


def test_a_stage_cache_path_that_is_a_folder_is_a_warning(tmp_path, caplog):
    from tierwise.batch import StageCache

    (tmp_path / "c.db").mkdir()
    cache = StageCache(tmp_path / "c.db")
    assert cache.get([(("triage",), "k")]) == {}
    cache.close()
    assert "in memory only" in caplog.text and (tmp_path / "c.db").is_dir()  # the user's folder is left alone


@pytest.mark.parametrize("field", ['"task_type": "a\\u0007b"', '"task_type": "x", "request_id": "\\u200b"',
                                   '"task_type": "' + "t" * 201 + '"'])
def test_a_bad_label_on_a_later_batch_line_is_refused_before_any_call(tmp_path, field):
    lines = ['{"input": "first"}'] * 3 + ['{"input": "late", ' + field + '}']
    assert "in.jsonl:4:" in refused(batch(tmp_path, lines))
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("claimed", ["priority", "flex"])
def test_a_response_claiming_another_tier_is_stored_and_billed_as_the_lower(tmp_path, claimed):
    """End to end: the real client against the emulator, whose response says `claimed` served a standard request
    (the draft stage's lite model serves standard, flex and priority). The ledger row stores the tier billed."""
    from tierwise import Runtime, call_stage
    from tierwise.emulator import Emulator, Fault, Faults, ScriptedBackend
    from tierwise.ledger import open_ledger
    from tierwise.tiers import Usage, price

    ledger = tmp_path / "l.db"
    with Emulator(ScriptedBackend([{"reply": "fine"}]), faults=Faults([Fault("served_tier", tier=claimed)])) as emu, \
            Runtime(backend="gemini", api_key="k", base_url=emu.base_url, ledger=str(ledger)) as rt:
        result = call_stage("draft", "hello", runtime=rt)
        rt.close()
    record = result.record
    billed = "standard" if claimed == "priority" else "flex"  # never above the tier sent (standard)
    assert record.service_tier == billed
    usage = Usage(input_tokens=record.input_tokens, output_tokens=record.output_tokens)
    model = build_registry().model(record.model)
    assert record.cost_usd == pytest.approx(price(model, usage, __import__("datetime").date.today(),
                                                  service_tier=billed))
    with open_ledger(f"sqlite:///{ledger}") as stored:
        assert [e.service_tier for e in stored.entries()] == [billed]
