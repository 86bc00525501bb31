"""The strict emulator refuses what Gemini refuses, with Gemini's status and message; lenient accepts it."""

from __future__ import annotations

import http.client
import json

import pytest

from tierwise.emulator import Emulator, ModelLimits, Rule, ScriptedBackend

LITE, FLASH, PRO = "gemini-3.5-flash-lite", "gemini-3.8-flash", "gemini-3.1-pro-preview"
TEXT = [{"role": "user", "parts": [{"text": "hello there"}]}]
KEY = {"x-goog-api-key": "emulator"}


def _post(emu: Emulator, model: str, body, *, headers=None, method: str = "generateContent"):
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    data = json.dumps(body).encode()
    conn.request("POST", f"/v1beta/models/{model}:{method}", body=data,
                 headers={"Content-Type": "application/json", **(KEY if headers is None else headers)})
    response = conn.getresponse()
    payload = json.loads(response.read())
    conn.close()
    return response, payload


@pytest.fixture
def strict_emu():
    emu = Emulator(ScriptedBackend([Rule(reply="ok")])).start()
    yield emu
    emu.stop()


def _config(**config):
    return {"contents": TEXT, "generationConfig": config}


# (case, model, body, expected message start or fragment)
REFUSED = [
    ("minimal on flash", FLASH, _config(thinkingConfig={"thinkingLevel": "MINIMAL"}),
     "Thinking level MINIMAL is not supported for this model. Please retry with other thinking level."),
    ("minimal on pro", PRO, _config(thinkingConfig={"thinkingLevel": "minimal"}),
     "Thinking level MINIMAL is not supported for this model."),
    ("level with budget", LITE, _config(thinkingConfig={"thinkingLevel": "LOW", "thinkingBudget": 128}),
     "You can only set only one of thinking budget and thinking level."),
    ("budget on a levels-only model", FLASH, _config(thinkingConfig={"thinkingBudget": 1024}),
     "Thinking budget is not supported for this model."),
    ("unknown field", LITE, _config(temprature=0.3),
     "Invalid JSON payload received. Unknown name \"temprature\" at 'generation_config': Cannot find field."),
    ("unknown top-level field", LITE, {"contents": TEXT, "generation_config_x": {}},
     "Invalid JSON payload received. Unknown name \"generation_config_x\": Cannot find field."),
    ("unknown enum value", LITE, _config(thinkingConfig={"thinkingLevel": "MINIMALL"}),
     "Invalid value at 'generation_config.thinking_config.thinking_level'"),
    ("unknown modality enum", LITE, _config(responseModalities=["TXT"]),
     "Invalid value at 'generation_config.response_modalities[0]'"),
    ("assistant role", LITE, {"contents": [{"role": "assistant", "parts": [{"text": "hi"}]}]},
     "Please use a valid role: user, model."),
    ("topP 7", "gemini-3.1-flash-lite", _config(topP=7),
     "Unable to submit request because it has a topP value of 7 but the supported range is from 0 (inclusive) "
     "to 1 (inclusive)."),
    ("temperature 3", "gemini-3.1-flash-lite", _config(temperature=3),
     "Unable to submit request because it has a temperature value of 3"),
    ("maxOutputTokens above the model's", LITE, _config(maxOutputTokens=10_000_000),
     "Unable to submit request because it has a maxOutputTokens value of 1e+07 but the supported range is from 1 "
     "(inclusive) to 65537 (exclusive)."),
    ("serviceTier batch", LITE, {"contents": TEXT, "serviceTier": "batch"},
     "Invalid value at 'service_tier'"),
    # Fixed-sampling models refuse penalties and a prefill (Gemini 3.5 Flash-Lite's model page, "breaking changes":
    # https://docs.cloud.google.com/vertex-ai/generative-ai/docs/models/gemini/3-5-flash-lite)
    ("presencePenalty to a fixed-sampling model", LITE, _config(presencePenalty=0.5),
     "Unable to submit request because presencePenalty is not supported by models/gemini-3.5-flash-lite"),
    ("frequencyPenalty to a fixed-sampling model", FLASH, _config(frequencyPenalty=0.5),
     "Unable to submit request because frequencyPenalty is not supported by models/gemini-3.8-flash"),
    ("a prefill (last content a model turn) to a fixed-sampling model", LITE,
     {"contents": [*TEXT, {"role": "model", "parts": [{"text": "Sure, here"}]}]},
     "Model prefill is not supported for models/gemini-3.5-flash-lite"),
    ("cachedContent with systemInstruction", LITE,
     {"contents": TEXT, "cachedContent": "cachedContents/abc", "systemInstruction": {"parts": [{"text": "be"}]}},
     "CachedContent can not be used with GenerateContent request setting system_instruction, tools or tool_config."),
    ("cachedContent with tools", LITE,
     {"contents": TEXT, "cachedContent": "cachedContents/abc",
      "tools": [{"functionDeclarations": [{"name": "f", "description": "d"}]}]},
     "CachedContent can not be used with GenerateContent request"),
    ("wrong type", LITE, _config(maxOutputTokens="many"),
     "Invalid value at 'generation_config.max_output_tokens' (TYPE_INT32), \"many\""),
]


@pytest.mark.parametrize(("case", "model", "body", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_strict_refuses_like_gemini(strict_emu, case, model, body, message):
    response, payload = _post(strict_emu, model, body)
    assert response.status == 400, payload
    error = payload["error"]
    assert (error["code"], error["status"]) == (400, "INVALID_ARGUMENT")
    assert message in error["message"]


def test_unknown_field_names_the_field_in_bad_request_details(strict_emu):
    _, payload = _post(strict_emu, LITE, _config(temprature=0.3))
    [violation] = payload["error"]["details"][0]["fieldViolations"]
    assert payload["error"]["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert violation["field"] == "generation_config"


def test_unknown_model_is_404_not_found(strict_emu):
    response, payload = _post(strict_emu, "gemini-9-ultra", {"contents": TEXT})
    assert response.status == 404
    assert payload["error"]["status"] == "NOT_FOUND"
    assert payload["error"]["message"].startswith("models/gemini-9-ultra is not found for API version v1beta")


def test_no_credentials_is_403_permission_denied(strict_emu):
    response, payload = _post(strict_emu, LITE, {"contents": TEXT}, headers={})
    assert response.status == 403
    assert payload["error"]["status"] == "PERMISSION_DENIED"


@pytest.mark.parametrize("tier", ["standard", "flex", "priority", "SERVICE_TIER_PRIORITY"])
def test_valid_requests_pass_and_report_the_served_tier(strict_emu, tier):
    body = {"contents": TEXT, "serviceTier": tier,
            "generationConfig": {"thinkingConfig": {"thinkingLevel": "LOW"}, "maxOutputTokens": 65_536}}
    response, payload = _post(strict_emu, FLASH, body)
    assert response.status == 200, payload
    assert response.getheader("x-gemini-service-tier") == tier.lower().removeprefix("service_tier_")


def test_snake_case_fields_are_accepted_as_the_real_api_does(strict_emu):
    config = {"max_output_tokens": 10, "thinking_config": {"thinking_level": "low"}}
    body = {"contents": TEXT, "generation_config": config}
    response, payload = _post(strict_emu, PRO, body)
    assert response.status == 200, payload


def test_a_tier_the_model_does_not_offer_is_refused():
    emu = Emulator(ScriptedBackend([Rule(reply="ok")]),
                   models={"gemini-small": ModelLimits("gemini-small", service_tiers=("standard",))}).start()
    try:
        response, payload = _post(emu, "gemini-small", {"contents": TEXT, "serviceTier": "flex"})
    finally:
        emu.stop()
    assert response.status == 400
    assert payload["error"]["message"] == "Service tier flex is not available for models/gemini-small. " \
                                          "Available tiers: standard."


# The wire parser itself refuses these, lenient or not: the backend could not read them.
UNREADABLE = ("wrong type", "temperature 3")
LENIENT = [r for r in REFUSED if r[0] not in UNREADABLE]


@pytest.mark.parametrize(("case", "model", "body", "message"), LENIENT, ids=[r[0] for r in LENIENT])
def test_lenient_accepts_what_strict_refuses(case, model, body, message):
    emu = Emulator(ScriptedBackend([Rule(reply="ok")]), strict=False).start()
    try:
        response, payload = _post(emu, model, body)
    finally:
        emu.stop()
    assert response.status == 200, payload


FIXED_SAMPLING = ["gemini-3.5-flash-lite", "gemini-3.6-flash", "gemini-3.8-flash"]


@pytest.mark.parametrize("model", FIXED_SAMPLING)
def test_fixed_sampling_models_accept_and_ignore_temperature_top_p_top_k(model):
    """Same page: custom temperature, topK and topP values "will be ignored" (accepted, not refused); the
    backend never sees them."""
    emu = Emulator(ScriptedBackend([Rule(reply="ok")])).start()
    try:
        response, payload = _post(emu, model, _config(temperature=0.0, topP=0.5, topK=3))
        request = emu.requests[-1]
    finally:
        emu.stop()
    assert response.status == 200, payload
    assert request.sampling_ignored and request.temperature is None and request.top_p is None


@pytest.mark.parametrize("model", ["gemini-3.1-flash-lite", "gemini-3.5-flash", "gemini-3.1-pro-preview"])
def test_models_with_sampling_take_penalties_temperature_and_a_prefill(strict_emu, model):
    body = {"contents": [*TEXT, {"role": "model", "parts": [{"text": "Sure"}]}],
            "generationConfig": {"temperature": 0.3, "presencePenalty": 0.5, "frequencyPenalty": 0.5}}
    response, payload = _post(strict_emu, model, body)
    assert response.status == 200, payload
    assert strict_emu.requests[-1].temperature == 0.3 and not strict_emu.requests[-1].sampling_ignored


# Default thinking levels from Google's model pages (what's new in Gemini 3.6 lists 3.6 Flash "medium" and
# 3.5 Flash-Lite "minimal"; the 3.5 Flash-Lite page: "3.5 Flash-Lite defaults to minimal thinking").
DEFAULT_LEVELS = {
    "gemini-3.8-flash": "medium", "gemini-3.7-flash": "medium", "gemini-3.6-flash": "medium",
    "gemini-3.5-flash": "medium", "gemini-3.1-flash-lite": "minimal", "gemini-3.5-flash-lite": "minimal",
    "gemini-3.1-pro-preview": "high",
}


@pytest.mark.parametrize(("model", "level"), DEFAULT_LEVELS.items())
def test_a_request_without_thinking_settings_thinks_at_the_models_default_level(strict_emu, model, level):
    from tierwise.tiers import load_registry

    assert load_registry().model(model).default_thinking_level == level
    response, payload = _post(strict_emu, model, {"contents": TEXT})
    assert response.status == 200, payload
    assert strict_emu.requests[-1].effective_thinking_level == level
    _post(strict_emu, model, _config(thinkingConfig={"thinkingLevel": "HIGH"}))
    assert strict_emu.requests[-1].effective_thinking_level == "high"


def test_an_answer_without_function_calls_is_signed_on_its_last_part():
    """Google's thought-signatures page: a non-function-call response carries its signature in the last part
    (streamed: the final chunk)."""
    emu = Emulator(ScriptedBackend([Rule(reply="one two three four five six seven eight")]),
                   tokens_per_chunk=2).start()
    try:
        _, payload = _post(emu, FLASH, {"contents": TEXT})
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
        conn.request("POST", f"/v1beta/models/{FLASH}:streamGenerateContent?alt=sse", json.dumps({"contents": TEXT}),
                     {"Content-Type": "application/json", **KEY})
        events = [json.loads(line[5:]) for line in conn.getresponse().read().decode().splitlines()
                  if line.startswith("data:")]
        conn.close()
    finally:
        emu.stop()
    parts = payload["candidates"][0]["content"]["parts"]
    assert "thoughtSignature" in parts[-1]
    signed = ["thoughtSignature" in part for e in events for part in e["candidates"][0]["content"].get("parts", [])]
    assert len(signed) > 1 and signed[-1] and not any(signed[:-1])


def test_finish_and_block_reasons_are_google_genais():
    """Every FinishReason and BlockedReason google-genai defines (CONTINUATION and the image ones included)."""
    from google.genai import types

    from tierwise.emulator.faults import BLOCK_REASONS, FINISH_REASONS

    assert set(FINISH_REASONS) == {m.value for m in types.FinishReason} - {"FINISH_REASON_UNSPECIFIED"}
    assert set(BLOCK_REASONS) == {m.value for m in types.BlockedReason} - {"BLOCKED_REASON_UNSPECIFIED"}


def test_grounding_queries_are_reported_only_when_a_search_tool_is_bound():
    emu = Emulator(ScriptedBackend([Rule(reply="ok", searches=["q one", "q two"])])).start()
    try:
        _, bound = _post(emu, FLASH, {"contents": TEXT, "tools": [{"googleSearch": {}}]})
        _, unbound = _post(emu, FLASH, {"contents": TEXT})
    finally:
        emu.stop()
    assert bound["candidates"][0]["groundingMetadata"]["webSearchQueries"] == ["q one", "q two"]
    assert "groundingMetadata" not in unbound["candidates"][0]
