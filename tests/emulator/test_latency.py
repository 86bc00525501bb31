"""The emulator's latency model: off by default; on, a call lasts time-to-first-token + output / speed."""

from __future__ import annotations

import math
import time

import pytest
from langchain_google_genai import ChatGoogleGenerativeAI

from tierwise.emulator import Emulator, LatencyModel, ModelLatency, ScriptedBackend
from tierwise.tiers import load_registry

TEXT = "A duplicate charge is urgent: refund it today and tell the customer. " * 4


def call(emulator, model="gemini-3.8-flash", **kwargs):
    llm = ChatGoogleGenerativeAI(model=model, google_api_key="emulator", base_url=emulator.base_url, max_retries=1)
    started = time.perf_counter()
    out = llm.stream("hi") if kwargs.get("stream") else [llm.invoke("hi")]
    chunks = list(out)
    return time.perf_counter() - started, chunks


def test_latency_is_off_unless_asked():
    assert Emulator(ScriptedBackend([])).latency is None


def test_a_call_takes_first_token_time_plus_output_at_the_models_speed():
    model = LatencyModel({"gemini-3.8-*": ModelLatency(ttft_s=0.3, tokens_per_s=200)}, ModelLatency(0.0, 1e6),
                         scale=0.5)
    with Emulator(ScriptedBackend([{"reply": TEXT}]), latency=model) as emulator:
        seconds, [message] = call(emulator)
        tokens = message.usage_metadata["output_tokens"]
        assert tokens > 20
        assert seconds >= (0.3 + tokens / 200) * 0.5  # the emulator waited at least that long
        fast, _ = call(emulator, model="gemini-3.5-flash-lite")  # the default: no first-token wait
        assert fast < seconds


def test_streamed_chunks_arrive_at_the_models_speed():
    model = LatencyModel({}, ModelLatency(ttft_s=0.1, tokens_per_s=100))
    with Emulator(ScriptedBackend([{"reply": TEXT}]), latency=model, tokens_per_chunk=4) as emulator:
        seconds, chunks = call(emulator, stream=True)
        tokens = sum(chunks[1:], chunks[0]).usage_metadata["output_tokens"]
        frames = math.ceil(tokens / 4)  # the emulator's chunks of 4 tokens, a pause of 4/100 s between two
        assert frames > 3
        assert seconds >= 0.1 + (frames - 1) * 4 / 100


def test_the_packaged_figures_cover_every_model_in_the_registry():
    """Every model a tier or a fallback uses; the other catalogued models (genai-prices') get the default."""
    published = LatencyModel.published()
    for model_id in load_registry(None).models_in_use():
        assert model_id in published.models, f"latency.toml has no figure for {model_id}"
    pro, lite = published.for_model("gemini-3.1-pro-preview"), published.for_model("gemini-3.5-flash-lite")
    assert pro.ttft_s > lite.ttft_s and pro.tokens_per_s < lite.tokens_per_s


def test_bad_figures_are_refused():
    with pytest.raises(ValueError, match="tokens_per_s"):
        LatencyModel({"m": ModelLatency(0.1, 0)}, ModelLatency(0.1, 10))
    with pytest.raises(ValueError, match="scale"):
        LatencyModel({}, ModelLatency(0.1, 10), scale=0)
