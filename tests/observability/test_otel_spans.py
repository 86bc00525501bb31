"""OpenTelemetry spans with the real SDK: one per stage call and one per attempt, GenAI semantic conventions, the
cost on attempt spans only (semconv PR #443, Langfuse's mapping) — adding up to `tierwise report`'s dollars —
through an in-memory exporter, and through the OTLP/HTTP exporter to a receiver on 127.0.0.1 decoding protobuf."""

from __future__ import annotations

import asyncio
import gzip
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pipeline import JUDGE, pipeline_rules

from tierwise import build_graph
from tierwise.ledger import open_ledger
from tierwise.reports import build_report
from tierwise.runtime import Runtime
from tierwise.telemetry import OpenTelemetryHook

SIMPLE = {"intent": "question", "complexity": 1, "confidence": "high"}


def rules():
    return [{"system": JUDGE, "reply": "not json", "times": 1},  # a billed, unusable attempt: its span has a cost
            *pipeline_rules(triage=SIMPLE, draft={"answer": "Maybe.", "confidence": "high"},
                            judge={"score": 3, "reason": "Vague."}, thoughts=80)]


@pytest.fixture
def traced():
    """(a graph whose runtime sends spans to an in-memory exporter, the exporter)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with Runtime(hooks=[OpenTelemetryHook(provider)]) as rt:
        yield build_graph(runtime=rt), exporter
    provider.shutdown()


def ledger_total() -> float:
    with open_ledger() as ledger:
        return sum(e.cost_usd for e in ledger.entries())


def check(spans: list[dict], result: dict) -> None:
    """`spans`: name, attributes, parent span id, span id, status code — from either exporter."""
    calls = result["calls"]
    attempts = [s for s in spans if s["attributes"].get("langfuse.observation.type") == "generation"]
    stages = [s for s in spans if s["name"].startswith("tierwise.stage ")]
    assert len(attempts) == len(calls) and len(stages) == len({(c.stage) for c in calls}) == 4
    by_call = {s["attributes"]["tierwise.call_id"]: s for s in attempts}
    stage_ids = {s["span_id"]: s for s in stages}
    for call in calls:
        span = by_call[call.call_id]
        a = span["attributes"]
        assert span["name"] == f"generate_content {call.model}"
        assert a["gen_ai.operation.name"] == "generate_content" and a["gen_ai.provider.name"] == "gcp.gemini"
        assert a["gen_ai.request.model"] == a["gen_ai.response.model"] == call.model
        assert a["gen_ai.usage.input_tokens"] == call.input_tokens
        assert a["gen_ai.usage.output_tokens"] == call.output_tokens
        assert a["gen_ai.usage.reasoning.output_tokens"] == call.thinking_tokens
        assert a["gen_ai.usage.cost.amount"] == call.cost_usd and a["gen_ai.usage.cost.currency"] == "USD"
        assert a["gen_ai.usage.cost.source"] == "local"
        assert json.loads(a["langfuse.observation.cost_details"]) == {
            "input": call.input_cost_usd, "output": call.output_cost_usd, "total": call.cost_usd}
        assert a["tierwise.stage"] == call.stage and a["tierwise.tier"] == call.tier
        assert a.get("tierwise.route") == (None if call.stage == "triage" else "simple")  # triage picks the route
        assert a["tierwise.service_tier"] == "standard" and a["tierwise.request_id"] == result["request_id"]
        assert a["tierwise.outcome"] == call.outcome
        assert (span["status"] == "ERROR") == (call.outcome != "ok")
        parent = stage_ids[span["parent"]]  # every attempt hangs under its stage call's span
        assert parent["attributes"]["tierwise.stage"] == call.stage
    for stage in stages:
        a = stage["attributes"]
        assert "gen_ai.usage.cost.amount" not in a  # only inference spans carry the cost: it adds up once
        assert a["gen_ai.operation.name"] == "generate_content" and a["tierwise.outcome"] == "ok"
        assert a["tierwise.cost_usd"] == pytest.approx(sum(c.cost_usd for c in calls if c.stage == a["tierwise.stage"]))
    judge = next(s for s in stages if s["attributes"]["tierwise.stage"] == "judge")
    assert judge["attributes"]["tierwise.attempts"] == 2
    total = sum(s["attributes"].get("gen_ai.usage.cost.amount", 0.0) for s in spans)
    assert total == pytest.approx(result["total_cost_usd"], abs=1e-12) == ledger_total()
    assert total == pytest.approx(build_report(open_ledger().entries()).total.cost_usd, abs=1e-12)  # `tierwise report`


def from_sdk(exporter: InMemorySpanExporter) -> list[dict]:
    return [{"name": s.name, "attributes": dict(s.attributes), "span_id": s.context.span_id,
             "parent": s.parent.span_id if s.parent else None, "status": s.status.status_code.name}
            for s in exporter.get_finished_spans()]


def test_spans_in_memory(scripted, traced):
    graph, exporter = traced
    _, context = scripted(rules())
    result = graph.invoke({"input": "Charged twice: urgent?"}, context=context)
    check(from_sdk(exporter), result)


def test_spans_from_async_calls(scripted, traced):
    graph, exporter = traced
    _, context = scripted(rules())
    result = asyncio.run(graph.ainvoke({"input": "Charged twice: urgent?"}, context=context))
    check(from_sdk(exporter), result)


def test_a_refused_call_is_a_span_too(scripted, traced, tmp_path):
    graph, exporter = traced
    (tmp_path / "tierwise.toml").write_text("[budget]\nhard_daily_usd = 0.0000001\n")
    _, context = scripted(rules())
    result = graph.invoke({"input": "Charged twice: urgent?"}, context=context)
    assert result["failure"]["kind"] == "budget"
    [stage] = from_sdk(exporter)
    assert stage["attributes"]["tierwise.outcome"] == "refused" and stage["status"] == "ERROR"
    assert stage["attributes"]["error.type"] == "BudgetExceededError"


def test_no_provider_set_up_no_spans(scripted):
    """The default hook (a Runtime's, with the extra installed) emits nothing while the global provider is
    OpenTelemetry's default: there is nowhere to send spans."""
    assert OpenTelemetryHook().tracer() is None
    assert any(isinstance(h, OpenTelemetryHook) for h in Runtime().hooks)
    _, context = scripted(rules())
    assert build_graph().invoke({"input": "Charged twice: urgent?"}, context=context)["total_cost_usd"] > 0


class Receiver:
    """An OTLP/HTTP trace receiver on 127.0.0.1: decodes each ExportTraceServiceRequest (protobuf)."""

    def __init__(self) -> None:
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceRequest,
            ExportTraceServiceResponse,
        )

        self.requests: list = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                return None

            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                elif self.headers.get("Content-Encoding") == "deflate":
                    body = zlib.decompress(body)
                assert self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf"
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.requests.append(request)
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/traces"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def spans(self) -> list[dict]:
        from google.protobuf.json_format import MessageToDict

        out = []
        for request in self.requests:
            for resource in request.resource_spans:
                assert MessageToDict(resource.resource)["attributes"][0]["key"]  # a resource came along
                for scope in resource.scope_spans:
                    assert scope.scope.name == "tierwise"
                    for span in scope.spans:
                        out.append({"name": span.name, "attributes": {a.key: _value(a.value) for a in span.attributes},
                                    "span_id": span.span_id, "parent": span.parent_span_id or None,
                                    "status": "ERROR" if span.status.code == 2 else "UNSET"})
        return out


def _value(value):
    kind = value.WhichOneof("value")
    return getattr(value, kind)


def test_spans_over_otlp_http(scripted):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    receiver = Receiver()
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=receiver.url)))
    try:
        _, context = scripted(rules())
        with Runtime(hooks=[OpenTelemetryHook(provider)]) as rt:
            result = build_graph(runtime=rt).invoke({"input": "Charged twice: urgent?"}, context=context)
        provider.force_flush()
    finally:
        provider.shutdown()
        receiver.server.shutdown()
    assert receiver.requests
    check(receiver.spans(), result)


def test_an_explicit_provider_and_the_global_one_send_each_span_once(scripted):
    """A runtime has the default hook (the global provider) and the application's own: with both set up, the
    default steps aside, so no span is sent twice."""
    from opentelemetry import trace

    exporter, mine = InMemorySpanExporter(), InMemorySpanExporter()
    global_provider, provider = TracerProvider(), TracerProvider()
    global_provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SimpleSpanProcessor(mine))
    real = trace._TRACER_PROVIDER  # OpenTelemetry lets the global provider be set once per process: restore it
    trace._TRACER_PROVIDER = global_provider
    try:
        _, context = scripted(rules())
        with Runtime(hooks=[OpenTelemetryHook(provider)]) as rt:
            result = build_graph(runtime=rt).invoke({"input": "Charged twice: urgent?"}, context=context)
        assert exporter.get_finished_spans() == ()
        check(from_sdk(mine), result)
        with Runtime() as rt:  # the default hook alone: the global provider gets the spans
            again = build_graph(runtime=rt).invoke({"input": "Charged twice: urgent?"}, context=context)
        stages = {c.stage for c in again["calls"]}
        assert len(exporter.get_finished_spans()) == len(again["calls"]) + len(stages)
    finally:
        trace._TRACER_PROVIDER = real


GLOBAL_LATER = """
import time
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from tierwise import Context, Runtime, call_stage
from tierwise.emulator import Emulator, ScriptedBackend

emulator = Emulator(ScriptedBackend([{"reply": "fine"}]))
emulator.start()
context = Context(base_url=emulator.base_url)
with Runtime() as rt:  # the default hooks: OpenTelemetry's stays out while no provider is set up
    call_stage("draft", "hello", context=context, runtime=rt)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    time.sleep(1.1)  # the hook looks at the global provider once a second
    call_stage("draft", "hello", context=context, runtime=rt)
emulator.stop()
print(sorted(span.name for span in exporter.get_finished_spans()))
"""


def test_a_global_provider_set_up_after_start_gets_the_next_calls_spans(tmp_path):
    """An application that sets OpenTelemetry's global provider up after tierwise's first call gets spans from then
    on (within a second), with nothing to re-build. Its own process: the global provider can be set once."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOME": str(tmp_path)}
    env.pop("OTEL_PYTHON_TRACER_PROVIDER", None)
    out = subprocess.run([sys.executable, "-c", GLOBAL_LATER], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "['generate_content gemini-3.5-flash-lite', 'tierwise.stage draft']"
