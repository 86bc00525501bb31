"""Wire-format helpers and the import-weight promise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tierwise.emulator import BackendError, GenerateRequest, Generation, tokens, wire
from tierwise.emulator.schema import from_openapi


def test_token_helpers_keep_text_intact():
    text = "Hello,  world! It's 42."
    assert tokens.count_tokens(text) == 9
    assert tokens.truncate(text, 3) == "Hello,  world"
    assert tokens.truncate(text, 0) == ""
    assert tokens.truncate(text, 99) == text
    pieces = tokens.split(text, 2)
    assert "".join(pieces) == text and len(pieces) == 5


def test_stream_chunks_carry_cumulative_usage():
    request = GenerateRequest(model="m")
    generation = Generation(
        text="a b c d e f g", prompt_tokens=5, output_tokens=7, thoughts_tokens=2, cached_tokens=1
    )
    chunks = list(wire.render_stream(request, generation, "rid", tokens_per_chunk=3))
    metas = [c["usageMetadata"] for c in chunks]
    assert [m.get("candidatesTokenCount", 0) for m in metas] == [3, 6, 7]
    assert [m["totalTokenCount"] for m in metas] == [10, 13, 14]
    assert all(m["promptTokenCount"] == 5 and m["cachedContentTokenCount"] == 1 for m in metas)


def test_empty_answer_has_no_parts():
    body = wire.render(GenerateRequest(model="m"), Generation("", 3, 0, 8, "MAX_TOKENS"), "rid")
    assert body["candidates"][0]["content"] == {"role": "model"}
    assert body["usageMetadata"] == {
        "promptTokenCount": 3,
        "totalTokenCount": 11,
        "thoughtsTokenCount": 8,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": 3}],
    }


def test_parse_request_reads_camel_and_snake_case():
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "q1"}, {"inlineData": {}}]},
            {"role": "model", "parts": [{"text": "thinking", "thought": True}, {"text": "a1"}]},
            {"role": "user", "parts": [{"text": "q2"}]},
        ],
        "systemInstruction": {"parts": [{"text": "s1"}, {"text": "s2"}]},
        "generationConfig": {
            "maxOutputTokens": 10,
            "temperature": 0.5,
            "stopSequences": ["END"],
            "thinkingConfig": {"thinking_level": "HIGH", "include_thoughts": True},
        },
    }
    request = wire.parse_request("gemini-x", body, stream=True, method="streamGenerateContent")
    assert request.messages == [("user", "q1"), ("model", "a1"), ("user", "q2")]
    assert request.system == "s1\ns2"
    assert request.user == "q1\nq2"
    assert (request.max_output_tokens, request.temperature, request.stop_sequences) == (10, 0.5, ["END"])
    assert (request.thinking_level, request.thinking_budget, request.include_thoughts) == ("high", None, True)


def test_schema_requires_json_mime_type():
    body = {
        "contents": [{"parts": [{"text": "x"}]}],
        "generationConfig": {"responseJsonSchema": {"type": "object"}},
    }
    with pytest.raises(BackendError, match="application/json"):
        wire.parse_request("m", body)


def test_legacy_openapi_schema_conversion():
    legacy = {
        "type": "OBJECT",
        "propertyOrdering": ["b", "a"],
        "properties": {
            "a": {"type": "STRING", "format": "enum", "enum": ["x", "y"]},
            "b": {"type": "ARRAY", "items": {"type": "INTEGER"}, "maxItems": "3", "nullable": True},
        },
        "required": ["a"],
    }
    converted = from_openapi(legacy)
    assert list(converted["properties"]) == ["b", "a"]
    assert converted["properties"]["a"] == {"type": "string", "enum": ["x", "y"]}
    assert converted["properties"]["b"] == {
        "anyOf": [{"type": "array", "items": {"type": "integer"}, "maxItems": 3}, {"type": "null"}]
    }


def test_import_is_light():
    heavy = ("llama_cpp", "google", "langchain_google_genai", "langchain_core", "langchain", "httpx")
    code = f"import sys, tierwise.emulator; print([m for m in sys.modules if m.split('.')[0] in {heavy!r}])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
