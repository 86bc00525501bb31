"""Vertex AI as a backend: the real ChatGoogleGenerativeAI with vertexai=True, sent to the strict emulator's Vertex
routes (the operator's endpoint, $TIERWISE_BASE_URL), in project mode (project + location + credentials) and in
express mode (an API key): answered, priced, and refused with a clear error when nothing says where to go."""

from __future__ import annotations

import pytest

from tierwise import Context, Runtime, call_stage
from tierwise.emulator import Emulator, ScriptedBackend
from tierwise.errors import BackendUnavailableError


@pytest.fixture
def vertex_emulator(monkeypatch):
    with Emulator(ScriptedBackend([{"reply": "Bonjour from Vertex."}])) as emu:
        monkeypatch.setenv("TIERWISE_BASE_URL", emu.base_url)  # the operator's endpoint stands in for Google's
        yield emu


def test_project_mode_with_credentials(vertex_emulator, monkeypatch):
    from google.oauth2.credentials import Credentials

    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-project")
    monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
    with Runtime(vertex_credentials=Credentials(token="offline-token")) as rt:  # what ADC would give
        result = call_stage("draft", "Say hello", context=Context(backend="vertex"), runtime=rt)
    assert result.value == "Bonjour from Vertex."
    assert result.record.cost_usd > 0
    # No API key went anywhere: the strict emulator answers a keyless call only on Vertex's project route, with
    # the bearer token of the credentials.
    assert len(vertex_emulator.requests) == 1


def test_express_mode_with_a_key(vertex_emulator, monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "vertex-express-key")
    result = call_stage("draft", "Say hello", context=Context(backend="vertex"))
    assert result.record.outcome == "ok" and result.value == "Bonjour from Vertex."


def test_no_project_and_no_key_is_a_clear_error_before_any_call(monkeypatch):
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    with pytest.raises(BackendUnavailableError, match="GOOGLE_CLOUD_PROJECT"):
        call_stage("draft", "hello", context=Context(backend="vertex"))


@pytest.mark.parametrize("asynchronous", [False, True])
def test_a_priority_call_vertex_served_on_demand_is_billed_at_standard(monkeypatch, asynchronous):
    """Vertex says which tier served a call in usageMetadata.trafficType (LangChain drops it): bill that one."""
    import asyncio

    from tierwise import CallHook, acall_stage

    class Priority(CallHook):
        name = "test-priority"

        def before_call(self, plan):
            return plan.replace(service_tier="priority")

    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    monkeypatch.setenv("GOOGLE_API_KEY", "vertex-express-key")
    rules = [{"reply": "fine", "served_tier": "standard", "user": "downgraded"}, {"reply": "fine"}]
    with Runtime(hooks=[Priority()]) as rt, Emulator(ScriptedBackend(rules)) as emu:
        monkeypatch.setenv("TIERWISE_BASE_URL", emu.base_url)
        context = Context(backend="vertex")
        run = (lambda text: asyncio.run(acall_stage("judge", text, context=context, runtime=rt))) \
            if asynchronous else (lambda text: call_stage("judge", text, context=context, runtime=rt))
        downgraded, as_asked = run("downgraded please"), run("as asked")
    from tierwise.tiers import load_registry

    factor = load_registry().data.service_tiers["priority"]
    ratio = (as_asked.record.cost_usd / as_asked.record.all_pro_cost_usd) / (
        downgraded.record.cost_usd / downgraded.record.all_pro_cost_usd)
    assert ratio == pytest.approx(factor, rel=1e-6)


def test_every_vertex_traffic_type_is_mapped():
    """google-genai's TrafficType: pay-as-you-go standard, priority and flex bill as those tiers; off-peak and
    Provisioned Throughput are named (no Gemini service tier: the requested tier is billed)."""
    from google.genai import types

    from tierwise.calls.served import TRAFFIC_TYPES
    from tierwise.tiers import served_tier

    assert set(TRAFFIC_TYPES) == {member.value for member in types.TrafficType}
    assert [served_tier("priority", TRAFFIC_TYPES[t]) for t in ("ON_DEMAND", "ON_DEMAND_FLEX", "ON_DEMAND_OFFPEAK",
                                                                 "PROVISIONED_THROUGHPUT")] == [
        "standard", "flex", "priority", "priority"]


@pytest.mark.parametrize("served", ["standard", "priority"])
def test_a_streamed_vertex_call_reports_its_served_tier_and_usage(served):
    """The response hook tees the SSE body as the client reads it: a streamed Vertex call's trafficType and
    usage are read without reading ahead, and the tier is requested with Vertex's header."""
    from langchain_google_genai import ChatGoogleGenerativeAI

    from tierwise.calls import served as observe

    rules = [{"reply": "one two three four five", "served_tier": "standard", "user": "downgrade"},
             {"reply": "one two three four five"}]
    with Emulator(ScriptedBackend(rules), tokens_per_chunk=2) as emu:
        chat = ChatGoogleGenerativeAI(model="gemini-3.8-flash", vertexai=True, api_key="vertex-express-key",
                                      base_url=emu.base_url, client_args=observe.CLIENT_ARGS, max_retries=1)
        box, token = observe.listen()
        try:
            text = "".join(chunk.text for chunk in chat.stream(
                "downgrade me" if served == "standard" else "as asked",
                http_options={"headers": {observe.VERTEX_TIER_HEADER: "priority"}}))
        finally:
            observe.stop(token)
        sent = emu.requests[-1]
    assert text == "one two three four five" and sent.stream and sent.service_tier == "priority"
    (seen,) = box
    assert seen.complete and seen.tier == served and seen.usage["candidatesTokenCount"] == 5
