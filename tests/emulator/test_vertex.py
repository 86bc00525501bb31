"""Vertex AI's REST paths, as google-genai sends them with vertexai=True, served offline by the emulator."""

from __future__ import annotations

import pytest

from tierwise.emulator import Emulator, Rule, ScriptedBackend

LITE = "gemini-3.5-flash-lite"


@pytest.fixture
def emu():
    emu = Emulator(ScriptedBackend([Rule(reply="Bonjour from Vertex.", thoughts=3)])).start()
    yield emu
    emu.stop()


def _project_client(emu: Emulator):
    """Project + location with (fake) OAuth credentials: what Application Default Credentials give."""
    from google import genai
    from google.genai import types
    from google.oauth2.credentials import Credentials

    return genai.Client(
        vertexai=True, project="demo-project", location="us-central1", credentials=Credentials(token="offline"),
        http_options=types.HttpOptions(base_url=emu.base_url),
    )


def _express_client(emu: Emulator):
    """Vertex AI express mode: an API key, no project."""
    from google import genai
    from google.genai import types

    options = types.HttpOptions(base_url=emu.base_url)
    return genai.Client(vertexai=True, api_key="vertex-express-key", http_options=options)


@pytest.mark.parametrize("make", [_project_client, _express_client], ids=["project+credentials", "express-key"])
def test_vertex_client_generates_streams_and_counts(emu, make):
    from google.genai import types

    client = make(emu)
    # Vertex selects Flex PayGo with a header (https://docs.cloud.google.com/vertex-ai/generative-ai/docs/flex-paygo)
    flex = types.HttpOptions(headers={"X-Vertex-AI-LLM-Shared-Request-Type": "flex"})
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_level="LOW"),
                                         labels={"team": "search"}, http_options=flex)
    response = client.models.generate_content(model=LITE, contents="Say hello", config=config)
    assert response.text == "Bonjour from Vertex."
    assert response.usage_metadata.thoughts_token_count == 3
    assert response.usage_metadata.traffic_type.value == "ON_DEMAND_FLEX"  # Vertex's served tier
    assert response.create_time is not None
    streamed = "".join(c.text or "" for c in client.models.generate_content_stream(model=LITE, contents="Say hello"))
    assert streamed == "Bonjour from Vertex."
    assert client.models.count_tokens(model=LITE, contents="Say hello").total_tokens == 2


def test_vertex_requests_are_judged_strictly(emu):
    from google.genai import errors, types

    client = _project_client(emu)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-3.8-flash", contents="q", config=types.GenerateContentConfig(
            thinking_config=types.ThinkingConfig(thinking_level="MINIMAL")))
    assert caught.value.code == 400 and "Thinking level MINIMAL is not supported" in caught.value.message
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_content(model="gemini-0-nothing", contents="q")
    assert missing.value.code == 404


def test_vertex_takes_the_service_tier_from_its_header_and_refuses_the_body_field(emu):
    """Vertex AI reads X-Vertex-AI-LLM-Shared-Request-Type (flex / priority PayGo pages) and answers 400 to the
    Gemini API's serviceTier body field (googleapis/python-genai#2433); a stream reports the tier too."""
    from google.genai import errors, types

    client = _project_client(emu)
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model=LITE, contents="Say hello",
                                       config=types.GenerateContentConfig(service_tier="priority"))
    assert caught.value.code == 400 and "service_tier" in caught.value.message
    priority = types.GenerateContentConfig(http_options=types.HttpOptions(
        headers={"X-Vertex-AI-LLM-Shared-Request-Type": "priority"}))
    chunks = list(client.models.generate_content_stream(model=LITE, contents="Say hello", config=priority))
    assert chunks[-1].usage_metadata.traffic_type.value == "ON_DEMAND_PRIORITY"
    bogus = types.GenerateContentConfig(http_options=types.HttpOptions(
        headers={"X-Vertex-AI-LLM-Shared-Request-Type": "turbo"}))
    with pytest.raises(errors.ClientError) as wrong:
        client.models.generate_content(model=LITE, contents="Say hello", config=bogus)
    assert wrong.value.code == 400 and "X-Vertex-AI-LLM-Shared-Request-Type" in wrong.value.message


def test_labels_are_vertex_only(emu):
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "q"}]}], "labels": {"a": "b"}})
    conn.request("POST", f"/v1beta/models/{LITE}:generateContent", body, {"x-goog-api-key": "k"})
    response = conn.getresponse()
    assert response.status == 400 and 'Unknown name "labels"' in json.loads(response.read())["error"]["message"]


def test_langchain_with_vertexai_true_reaches_the_emulator(emu):
    from google.oauth2.credentials import Credentials
    from langchain_google_genai import ChatGoogleGenerativeAI

    chat = ChatGoogleGenerativeAI(model=LITE, vertexai=True, project="demo-project", location="us-central1",
                                  credentials=Credentials(token="offline"), base_url=emu.base_url, max_retries=1)
    message = chat.invoke("Say hello")
    assert message.text == "Bonjour from Vertex."
    assert message.usage_metadata["output_token_details"] == {"reasoning": 3}
