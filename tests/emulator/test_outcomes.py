"""Answers and failures as Gemini means them, seen through the real clients (google-genai and langchain).

Each test pins what the client raises or exposes, so the client side can classify it: a blocked prompt,
the non-STOP finish reasons, an invalid key, permission denied, the served tier, Gemini 3's thought
signature, and media parts counted per modality.
"""

from __future__ import annotations

import base64

import pytest

from tierwise.emulator import Emulator, Fault, Faults, ModelLimits, Rule, ScriptedBackend
from tierwise.emulator.faults import BLOCK_REASONS, FINISH_REASONS

LITE, FLASH = "gemini-3.5-flash-lite", "gemini-3.8-flash"


@pytest.fixture
def start():
    started: list[Emulator] = []

    def make(rules, faults=(), **options) -> Emulator:
        emu = Emulator(ScriptedBackend(rules), faults=Faults(list(faults)), **options).start()
        started.append(emu)
        return emu

    yield make
    for emu in started:
        emu.stop()


_clients: list = []  # a google-genai Client closes its connection pool when garbage-collected: keep them


def _genai(emu: Emulator, key: str = "emulator"):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=emu.base_url, retry_options=types.HttpRetryOptions(attempts=1))
    _clients.append(genai.Client(api_key=key, http_options=options))
    return _clients[-1]


def _chat(emu: Emulator, model: str = LITE, key: str = "emulator"):
    from langchain_google_genai import ChatGoogleGenerativeAI

    return ChatGoogleGenerativeAI(model=model, google_api_key=key, base_url=emu.base_url, max_retries=1)


def test_reason_lists_match_google_genai():
    from google.genai import types

    assert set(FINISH_REASONS) <= {m.value for m in types.FinishReason}
    assert set(BLOCK_REASONS) <= {m.value for m in types.BlockedReason}


@pytest.mark.parametrize("how", ["fault", "rule"])
def test_blocked_prompt_has_feedback_no_candidates_and_prompt_usage(start, how):
    if how == "fault":
        emu = start([Rule(reply="never")], [Fault("blocked", block_reason="PROHIBITED_CONTENT")])
    else:
        emu = start([Rule(blocked="PROHIBITED_CONTENT")])
    response = _genai(emu).models.generate_content(model=LITE, contents="a forbidden question")
    assert response.candidates is None
    assert response.prompt_feedback.block_reason.value == "PROHIBITED_CONTENT"
    assert response.usage_metadata.prompt_token_count == 3
    assert response.usage_metadata.candidates_token_count is None

    message = _chat(emu).invoke("a forbidden question")
    assert message.content == ""
    assert message.response_metadata["prompt_feedback"]["block_reason"].value == "PROHIBITED_CONTENT"
    assert message.usage_metadata is None  # langchain drops the usage of a blocked prompt


@pytest.mark.parametrize("reason", ["OTHER", "LANGUAGE", "MALFORMED_FUNCTION_CALL", "UNEXPECTED_TOOL_CALL",
                                    "TOO_MANY_TOOL_CALLS", "SAFETY", "MAX_TOKENS"])
def test_finish_reasons_on_demand(start, reason):
    emu = start([Rule(reply="x")], [Fault("finish", finish_reason=reason)])
    response = _genai(emu).models.generate_content(model=LITE, contents="q")
    assert response.candidates[0].finish_reason.value == reason
    message = _chat(emu).invoke("q")
    assert message.response_metadata["finish_reason"] == reason


def test_a_rule_sets_any_finish_reason(start):
    emu = start([Rule(reply="Ceci n'est pas", finish_reason="LANGUAGE")])
    assert _chat(emu).invoke("q").response_metadata["finish_reason"] == "LANGUAGE"


@pytest.mark.parametrize("how", ["configured key", "fault"])
def test_invalid_key_is_400_with_api_key_invalid_error_info(start, how):
    from google.genai import errors
    from langchain_google_genai.chat_models import GoogleInvalidRequestError

    if how == "fault":
        emu, key = start([Rule(reply="ok")], [Fault("api_key_invalid")]), "emulator"
    else:
        emu, key = start([Rule(reply="ok")], invalid_keys=["bad-key"]), "bad-key"
    with pytest.raises(errors.ClientError) as caught:
        _genai(emu, key).models.generate_content(model=LITE, contents="q")
    error = caught.value
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert error.message == "API key not valid. Please pass a valid API key."
    info = error.details["error"]["details"][0]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo" and info["reason"] == "API_KEY_INVALID"

    with pytest.raises(GoogleInvalidRequestError) as wrapped:
        _chat(emu, key=key).invoke("q")
    assert isinstance(wrapped.value.__cause__, errors.ClientError)
    assert wrapped.value.__cause__.details["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    assert key not in str(wrapped.value) or key == "emulator"


def test_permission_denied_is_403(start):
    from google.genai import errors
    from langchain_google_genai.chat_models import GooglePermissionDeniedError

    emu = start([Rule(reply="ok")], [Fault("permission_denied")])
    with pytest.raises(errors.ClientError) as caught:
        _genai(emu).models.generate_content(model=LITE, contents="q")
    assert (caught.value.code, caught.value.status) == (403, "PERMISSION_DENIED")
    with pytest.raises(GooglePermissionDeniedError):
        _chat(emu).invoke("q")


@pytest.mark.parametrize(("rules", "faults", "served"), [
    ([Rule(reply="ok")], [], "priority"),
    ([Rule(reply="ok", served_tier="standard")], [], "standard"),
    ([Rule(reply="ok")], [Fault("served_tier", tier="standard")], "standard"),
])
def test_served_tier_header(start, rules, faults, served):
    from google.genai import types

    emu = start(rules, faults)
    response = _genai(emu).models.generate_content(
        model=FLASH, contents="q", config=types.GenerateContentConfig(service_tier="priority")
    )
    assert response.sdk_http_response.headers["x-gemini-service-tier"] == served


def test_gemini_3_answers_carry_a_thought_signature_on_the_first_part(start):
    emu = start([Rule(reply="Hi.", thoughts=4)], models={"gemini-2.5-flash": ModelLimits("gemini-2.5-flash")})
    client = _genai(emu)
    parts = client.models.generate_content(model=FLASH, contents="q").candidates[0].content.parts
    assert parts[0].thought_signature and len(parts[0].thought_signature) == 64
    older = client.models.generate_content(model="gemini-2.5-flash", contents="q").candidates[0].content.parts
    assert older[0].thought_signature is None
    streamed = list(client.models.generate_content_stream(model=FLASH, contents="q"))
    assert streamed[0].candidates[0].content.parts[0].thought_signature


def _wav(seconds: int) -> bytes:
    rate = 16_000
    header = b"RIFF" + (36 + rate * 2 * seconds).to_bytes(4, "little") + b"WAVEfmt " + (16).to_bytes(4, "little")
    header += (1).to_bytes(2, "little") + (1).to_bytes(2, "little") + rate.to_bytes(4, "little")
    header += (rate * 2).to_bytes(4, "little") + (2).to_bytes(2, "little") + (16).to_bytes(2, "little")
    return header + b"data" + (rate * 2 * seconds).to_bytes(4, "little") + bytes(rate * 2 * seconds)


def test_media_parts_are_counted_per_modality(start):
    from google.genai import types

    emu = start([Rule(reply="A cat.")])
    pdf = b"%PDF-1.4 /Type /Pages /Type /Page x /Type /Page y"
    contents = [types.Content(role="user", parts=[
        types.Part.from_text(text="describe these"),
        types.Part.from_bytes(data=b"\x89PNG fake", mime_type="image/png"),
        types.Part.from_bytes(data=_wav(3), mime_type="audio/wav"),
        types.Part.from_bytes(data=pdf, mime_type="application/pdf"),
        types.Part.from_uri(file_uri="https://example.com/v.mp4", mime_type="video/mp4"),
    ])]
    client = _genai(emu)
    usage = client.models.generate_content(model=LITE, contents=contents).usage_metadata
    details = {d.modality.value: d.token_count for d in usage.prompt_tokens_details}
    assert details == {"TEXT": 2, "IMAGE": 258, "AUDIO": 96, "DOCUMENT": 516, "VIDEO": 263}
    assert usage.prompt_token_count == sum(details.values())
    counted = client.models.count_tokens(model=LITE, contents=contents)
    assert counted.total_tokens == usage.prompt_token_count


def test_a_modality_the_model_does_not_take_is_400(start):
    from google.genai import errors, types

    emu = start([Rule(reply="?")], models={"text-only": ModelLimits("text-only", input_modalities=frozenset({"TEXT"}))})
    part = types.Part.from_bytes(data=base64.b64decode("AAAA"), mime_type="audio/mp3")
    with pytest.raises(errors.ClientError) as caught:
        _genai(emu).models.generate_content(model="text-only", contents=[part])
    assert caught.value.code == 400
    assert caught.value.message == "Audio input modality is not enabled for models/text-only."
