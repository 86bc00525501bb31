"""Record through a proxy emulator, stop the upstream, replay with the real client: same answers, same usage."""

from __future__ import annotations

import json

import pytest
from emulator_models import KEY

from tierwise.emulator import Emulator, Rule, ScriptedBackend
from tierwise.errors import InvalidInputError

LITE, PRO = "gemini-3.5-flash-lite", "gemini-3.1-pro-preview"
CANARY = "canary-key-recording-never-stored-0123456789"
RULES = [
    Rule(user="capital of France", reply="Paris.", thoughts=7, cached_tokens=2),
    Rule(user="retry", reply="first", times=1),
    Rule(user="retry", reply="second"),
    Rule(reply="A long streamed answer about heat pumps and their seasonal efficiency in cold climates."),
]


def _chat(base_url: str, model: str = LITE, key: str = CANARY):
    from langchain_google_genai import ChatGoogleGenerativeAI

    return ChatGoogleGenerativeAI(model=model, google_api_key=key, base_url=base_url, max_retries=1)


def _conversation(base_url: str) -> list[tuple[str, dict]]:
    """What a test suite would check: answers and usage, plain and streamed, on two models."""
    out = []
    lite, pro = _chat(base_url), _chat(base_url, PRO)
    for chat, prompt in ((lite, "What is the capital of France?"), (pro, "What is the capital of France?"),
                         (lite, "retry"), (lite, "retry")):
        message = chat.invoke(prompt)
        out.append((message.text, dict(message.usage_metadata)))
    chunks = list(lite.stream("Tell me about heat pumps"))
    total = chunks[0]
    for chunk in chunks[1:]:
        total = total + chunk
    out.append((f"{len(chunks)} chunks: {total.text}", dict(total.usage_metadata)))
    return out


def test_record_then_replay_without_the_upstream(tmp_path, monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", CANARY)  # the operator's key: sent upstream, never stored
    upstream = Emulator(ScriptedBackend(RULES)).start()
    recorder = Emulator(record=tmp_path, upstream=upstream.base_url).start()
    try:
        recorded = _conversation(recorder.base_url)
    finally:
        recorder.stop()
        upstream.stop()
    served_upstream = len(upstream.requests)
    assert served_upstream == 5

    files = sorted(tmp_path.rglob("*.json"))
    assert {f.parent.name for f in files} == {LITE, PRO}
    for path in files:
        text = path.read_text()
        assert CANARY not in text and "x-goog-api-key" not in text
        assert json.loads(text)["key"] in path.name

    monkeypatch.delenv("GOOGLE_API_KEY")
    replayer = Emulator(replay=tmp_path).start()
    try:
        replayed = _conversation(replayer.base_url)
    finally:
        replayer.stop()
    assert replayed == recorded
    assert recorded[0][0] == "Paris." and recorded[0][1]["output_token_details"] == {"reasoning": 7}
    assert [r[0] for r in recorded[2:4]] == ["first", "second"]  # repeated requests replay in recorded order
    assert recorded[4][0].startswith(("2 chunks", "3 chunks", "4 chunks", "5 chunks", "6 chunks"))
    assert len(upstream.requests) == served_upstream  # nothing reached the upstream during replay


def test_a_miss_names_the_model_and_the_request_key(tmp_path):
    from langchain_google_genai.chat_models import GoogleModelNotFoundError

    replayer = Emulator(replay=tmp_path).start()
    try:
        with pytest.raises(GoogleModelNotFoundError) as caught:
            _chat(replayer.base_url).invoke("never recorded")
    finally:
        replayer.stop()
    message = str(caught.value)
    assert f"No recorded answer for models/{LITE}:generateContent with request key " in message
    assert "--on-miss upstream" in message


def test_on_miss_upstream_forwards_and_records_the_miss(tmp_path):
    upstream = Emulator(ScriptedBackend(RULES)).start()
    replayer = Emulator(replay=tmp_path, upstream=upstream.base_url, on_miss="upstream").start()
    try:
        first = _chat(replayer.base_url, key="emulator").invoke("What is the capital of France?").text
        upstream.stop()
        again = _chat(replayer.base_url, key="emulator").invoke("What is the capital of France?").text
    finally:
        replayer.stop()
        upstream.stop()
    assert first == again == "Paris."
    assert len(list(tmp_path.rglob("*.json"))) == 1


def test_upstream_errors_are_recorded_and_replayed(tmp_path):
    import http.client

    upstream = Emulator(ScriptedBackend(RULES)).start()
    recorder = Emulator(record=tmp_path, upstream=upstream.base_url).start()
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "hi"}]}],
                       "generationConfig": {"temprature": 1}})

    def post(emu):
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        headers = {**KEY, "Content-Type": "application/json"}
        conn.request("POST", f"/v1beta/models/{LITE}:generateContent", body, headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())

    try:
        recorded = post(recorder)
    finally:
        recorder.stop()
        upstream.stop()
    replayer = Emulator(replay=tmp_path).start()
    try:
        assert post(replayer) == recorded
    finally:
        replayer.stop()
    assert recorded[0] == 400 and "temprature" in recorded[1]["error"]["message"]


@pytest.mark.parametrize(("options", "fragment"), [
    ({"record": "x"}, "record=DIR needs upstream=URL"),
    ({"record": "x", "replay": "y", "upstream": "http://u"}, "choose one"),
    ({"replay": "/nonexistent/dir"}, "is not a directory"),
    ({"upstream": "http://u"}, "goes with record=DIR"),
    ({"replay": ".", "on_miss": "upstream"}, "needs upstream=URL"),
])
def test_bad_record_options_name_the_argument(options, fragment):
    with pytest.raises(InvalidInputError, match=fragment):
        Emulator(**options)
