"""Explicit context caches in the emulator, driven by the real google-genai `client.caches` and
langchain-google-genai's `cached_content`."""

from __future__ import annotations

import time

import pytest
from google import genai
from google.genai import errors, types

from tierwise.emulator import Rule

MODEL = "gemini-3.5-flash"
DOCUMENT = "The policy says refunds within 30 days. " * 700  # about 5,600 tokens: over the 4,096 minimum


def _client(emu) -> genai.Client:
    return genai.Client(api_key="emulator", http_options=types.HttpOptions(base_url=emu.base_url))


def _cache(client, text=DOCUMENT, **config):
    return client.caches.create(model=MODEL, config={
        "contents": [{"role": "user", "parts": [{"text": text}]}], "system_instruction": "Answer from the policy.",
        **config})


def test_create_use_update_list_delete(emulator, chat):
    emu = emulator([Rule(system="policy", user="refund", reply="Within 30 days.")])
    client = _client(emu)
    cache = _cache(client, ttl="600s", display_name="policy")
    assert cache.name.startswith("cachedContents/") and cache.usage_metadata.total_token_count > 4096
    answer = chat(emu, model=MODEL).invoke([("human", "How long for a refund?")], cached_content=cache.name)
    assert answer.text == "Within 30 days."
    usage = answer.usage_metadata
    assert usage["input_token_details"]["cache_read"] == cache.usage_metadata.total_token_count
    assert usage["input_tokens"] > cache.usage_metadata.total_token_count  # the cache's tokens, then the question's
    later = client.caches.update(name=cache.name, config={"ttl": "7200s"})
    assert later.expire_time > cache.expire_time
    assert [c.name for c in client.caches.list()] == [cache.name]
    client.caches.delete(name=cache.name)
    with pytest.raises(errors.ClientError) as gone:
        client.caches.get(name=cache.name)
    assert gone.value.code == 403
    assert emu.caches.reads == 1


def test_refusals_google_gives(emulator, chat):
    emu = emulator([Rule(reply="ok")])
    client = _client(emu)
    with pytest.raises(errors.ClientError) as small:
        _cache(client, text="too short")
    assert small.value.code == 400 and "min_total_token_count=4096" in small.value.message
    with pytest.raises(errors.ClientError) as both:
        _cache(client, ttl="60s", expire_time="2099-01-01T00:00:00Z")
    assert both.value.code == 400
    cache = _cache(client)
    from langchain_core.exceptions import ModelError

    with pytest.raises(ModelError, match="CachedContent can not be used"):  # systemInstruction beside the cache
        chat(emu, model=MODEL).invoke([("system", "Be brief."), ("human", "hi")], cached_content=cache.name)
    with pytest.raises(ModelError, match="has to be the same"):
        chat(emu, model="gemini-3.8-flash").invoke([("human", "hi")], cached_content=cache.name)


def test_a_cache_expires_after_its_ttl(emulator, chat):
    emu = emulator([Rule(reply="ok")])
    client = _client(emu)
    cache = _cache(client, ttl="0.3s")
    time.sleep(0.4)
    with pytest.raises(errors.ClientError) as expired:
        client.caches.get(name=cache.name)
    assert expired.value.code == 403
