"""Fault specs as data: scheduling (rate, times, every, after), seeding, thread safety, and the spec parsers."""

from __future__ import annotations

import http.client
import json
import threading

import pytest
from emulator_models import KEY, TEST_MODELS

from tierwise.emulator import (
    Emulator,
    Fault,
    Faults,
    FaultSpecError,
    GenerateRequest,
    Rule,
    ScriptedBackend,
    parse_faults,
)
from tierwise.emulator.faultwire import duration


def _fired(faults: Faults, n: int, model: str = "m") -> list[str | None]:
    return [(f.kind if (f := faults.pick(GenerateRequest(model=model))) else None) for _ in range(n)]


def test_script_after_every_times():
    assert _fired(Faults([Fault("empty", times=2)]), 4) == ["empty", "empty", None, None]
    assert _fired(Faults([Fault("empty", after=2)]), 4) == [None, None, "empty", "empty"]
    assert _fired(Faults([Fault("empty", every=2, after=1, times=2)]), 7) == [
        None, None, "empty", None, "empty", None, None,
    ]


def test_first_firing_spec_wins_and_the_others_keep_their_schedule():
    faults = Faults([Fault("rate_limit", every=2), Fault("unavailable", times=3)])
    assert _fired(faults, 5) == ["unavailable", "rate_limit", "unavailable", "rate_limit", "unavailable"]
    assert faults.applied == {"unavailable": 3, "rate_limit": 2}


def test_rate_is_reproducible_per_seed_and_independent_of_other_specs():
    def pattern(seed: int, *extra: Fault) -> list[bool]:
        faults = Faults([*extra, Fault("server_error", model="m", rate=0.3)], seed=seed)
        return [f == "server_error" for f in _fired(faults, 200)]

    first = pattern(7)
    assert first == pattern(7)
    assert first != pattern(8)
    assert 30 < sum(first) < 90
    assert pattern(7, Fault("empty", model="other", rate=0.5)) == first  # a spec for another model changes nothing


def test_reset_replays_the_same_sequence():
    faults = Faults([Fault("slow", rate=0.5, delay_ms=0)], seed=3)
    once = _fired(faults, 50)
    faults.reset()
    assert _fired(faults, 50) == once
    assert faults.applied == {"slow": once.count("slow")}


def test_model_globs_and_request_records():
    faults = Faults([Fault("empty", model="gemini-*-lite")])
    lite, pro = GenerateRequest(model="gemini-3.5-flash-lite"), GenerateRequest(model="gemini-3.1-pro")
    assert faults.pick(lite).kind == "empty" and lite.fault == "empty"
    assert faults.pick(pro) is None and pro.fault is None


def test_counters_are_thread_safe():
    faults = Faults([Fault("empty", times=500), Fault("safety")])
    threads = [threading.Thread(target=_fired, args=(faults, 250)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert faults.applied == {"empty": 500, "safety": 1500}


def test_same_seed_same_faults_over_http():
    def run() -> list[int]:
        faults = Faults([Fault("unavailable", rate=0.4)], seed=11)
        with Emulator(ScriptedBackend([Rule(reply="ok")]), faults=faults, models=TEST_MODELS) as emu:
            conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
            body = json.dumps({"contents": [{"parts": [{"text": "q"}]}]})
            codes = []
            for _ in range(30):
                conn.request("POST", "/v1beta/models/m:generateContent", body, KEY)
                response = conn.getresponse()
                response.read()
                codes.append(response.status)
            return codes

    codes = run()
    assert codes == run()
    assert set(codes) == {200, 503}


def test_duration_is_protobuf_json():
    assert [duration(s) for s in (2, 1.5, 0.25, 0.00025, 1.0000001)] == ["2s", "1.500s", "0.250s", "0.000250s",
                                                                          "1.000000100s"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("rate_limit:0.2:retry_after=1,unavailable:0.1,slow:0.05:delay_ms=3000",
         "rate_limit:0.2:retry_after=1,unavailable:0.1,slow:0.05:delay_ms=3000"),
        (" rate_limit : model=gemini-3.5-flash-lite : times=2 ", "rate_limit:model=gemini-3.5-flash-lite:times=2"),
        ("server_error:code=503:every=3:after=1,seed=7", "server_error:every=3:after=1:code=503,seed=7"),
        ("rate_limit:rate=0.5:header=false:retry_info=true", "rate_limit:0.5:header=false:retry_info=true"),
        ("window:gemini-3.5-flash-lite=1000,empty:model=*-pro", "empty:model=*-pro,window:gemini-3.5-flash-lite=1000"),
    ],
)
def test_parse_compact_specs_round_trip(spec, expected):
    faults = parse_faults(spec)
    assert str(faults) == expected
    assert str(parse_faults(str(faults))) == expected


def test_parsed_values_are_typed():
    faults = parse_faults("rate_limit:0.25:retry_after=1.5:header=false,window:m*=100,seed=3")
    (fault,) = faults.faults
    assert (fault.kind, fault.rate, fault.retry_after, fault.header, fault.retry_info) == (
        "rate_limit", 0.25, 1.5, False, True,
    )
    assert faults.seed == 3 and faults.context_window("m1") == 100 and faults.context_window("x") is None


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty fault spec"),
        ("rate_limit,,slow", "item 2 is empty"),
        ("explode", r"item 1 'explode': unknown fault kind 'explode' \(known: rate_limit, "),
        ("unavailable:abc", r"item 1 'unavailable:abc': 'abc' is neither a rate"),
        ("slow:1.5", "rate must be a probability in \\[0, 1\\]"),
        ("slow:retry_after=2", r"'retry_after' does not apply to slow \(allowed: model, rate, times, every, after, "
                               r"delay_ms\)"),
        ("empty:times=0", "times must be a positive integer"),
        ("empty:every=x", "every must be a positive integer"),
        ("rate_limit:header=maybe", "header must be true or false"),
        ("server_error:code=404", "code must be an HTTP 5xx code"),
        ("hang:delay_ms=999999999", "delay_ms must be a number of milliseconds"),
        ("empty:times=1:times=2", "times given twice"),
        ("empty:=3", "missing the key"),
        ("empty,seed=x", r"item 2 'seed=x': seed must be an integer"),
        ("window:m", "expected window:MODEL=TOKENS"),
        ("window:m=0", r"context_windows\['m'\]: must be a positive integer"),
    ],
)
def test_bad_compact_specs_name_the_part(spec, message):
    with pytest.raises(FaultSpecError, match=message):
        parse_faults(spec)


def test_fault_files(tmp_path):
    toml = tmp_path / "faults.toml"
    toml.write_text(
        'seed = 4\n[context_windows]\n"gemini-3.5-flash-lite" = 1000\n'
        '[[faults]]\nkind = "rate_limit"\nmodel = "gemini-*"\nrate = 0.2\nretry_after = 1\n'
        '[[faults]]\nkind = "stream_cut"\nchunks = 2\n'
    )
    faults = parse_faults(str(toml))
    assert str(faults) == (
        "rate_limit:0.2:model=gemini-*:retry_after=1,stream_cut:chunks=2,seed=4,window:gemini-3.5-flash-lite=1000"
    )

    listed = tmp_path / "faults.json"
    listed.write_text(json.dumps([{"kind": "empty", "times": 1}]))
    assert str(parse_faults(str(listed))) == "empty:times=1"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("a.toml", "[[faults]]\nmodel = 'x'\n", r"faults\[0\]: missing 'kind'"),
        ("b.toml", "[[faults]]\nkind = 'slow'\nretry_after = 1\n", r"faults\[0\]: 'retry_after' does not apply"),
        ("c.toml", "seeds = 1\n", "unknown top-level key 'seeds'"),
        ("d.json", "{nope", "not JSON"),
        ("e.json", '{"faults": {"kind": "slow"}}', "'faults' must be a list"),
    ],
)
def test_bad_fault_files_name_file_and_key(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(FaultSpecError, match=message) as info:
        parse_faults(str(path))
    assert str(path) in str(info.value)


def test_missing_file():
    with pytest.raises(FaultSpecError, match="no such fault file"):
        parse_faults("/nonexistent/faults.toml")


def test_cli_rejects_a_bad_spec_with_exit_2():
    from typer.testing import CliRunner

    from tierwise.cli import app

    result = CliRunner().invoke(app, ["emulator", "--port", "0", "--faults", "rate_limit:0.2,unavailable:oops"])
    assert result.exit_code == 2
    assert "error: fault spec item 2 'unavailable:oops'" in result.output
