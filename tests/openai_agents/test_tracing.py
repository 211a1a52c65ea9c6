"""Replay-safe tracing: one agent run exports the same span tree once, however often it is replayed.

The served app exports with the real OTLP/HTTP exporter (switched on by ``DURABLE_AGENTS_OTEL=1`` in
the serve process) to a receiver in this process. The restate-servers here have tracing enabled
(``RESTATE_TRACING_ENDPOINT``; nothing listens there), which makes them send a ``traceparent`` with
each attempt; without it Restate sends none.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import httpx
import pytest
from agents.tracing.span_data import AgentSpanData, FunctionSpanData
from agents.tracing.spans import SpanImpl
from agents.tracing.traces import TraceImpl
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integrations.runtime import RestateServer, Stack, free_port, wait_until
from integrations.testing import ScriptedModelServer, error, text, tool_call
from integrations.testing.pytest_plugin import ServeFactory
from integrations.tracing import RestateTracingProcessor, exporter_from_env

from ..conftest import Effects
from ._otlp import OtlpReceiver, ReceivedSpan

APP = "tests/apps/tracing_app.py:app"
CITY = "Slow Paris"
STATUS_ERROR = 2  # opentelemetry.proto.trace.v1.Status.STATUS_CODE_ERROR

# The SDK's tree for this run (names as exported): the workflow trace, its task span, one agent span
# per agent, one turn span per model turn, and under the turns the model calls, the handoff and the tool.
EXPECTED_TREE = Counter(
    {
        ("Agent workflow", ""): 1,
        ("task Agent workflow", "Agent workflow"): 1,
        ("invoke_agent Triage", "task Agent workflow"): 1,
        ("turn 1 Triage", "invoke_agent Triage"): 1,
        ("chat gpt-4o", "turn 1 Triage"): 1,
        ("handoff Triage -> WeatherAgent", "turn 1 Triage"): 1,
        ("invoke_agent WeatherAgent", "task Agent workflow"): 1,
        ("turn 2 WeatherAgent", "invoke_agent WeatherAgent"): 1,
        ("chat gpt-4o", "turn 2 WeatherAgent"): 1,
        ("execute_tool get_weather", "turn 2 WeatherAgent"): 1,
        ("turn 3 WeatherAgent", "invoke_agent WeatherAgent"): 1,
        ("chat gpt-4o", "turn 3 WeatherAgent"): 1,
    }
)


@pytest.fixture(scope="module", params=["normal", "always-replay"])
def tracing_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestateServer]:
    """A restate-server with tracing on, so it sends each attempt's ``traceparent`` to the service."""
    server = RestateServer(
        base_dir=tmp_path_factory.mktemp(f"restate-tracing-{request.param}"),
        always_replay=request.param == "always-replay",
        extra_env={"RESTATE_TRACING_ENDPOINT": f"http://127.0.0.1:{free_port()}"},
    )
    with server:
        yield server


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver() as otlp:
        yield otlp


def script_run(model_server: ScriptedModelServer, city: str) -> None:
    model_server.enqueue(
        tool_call("transfer_to_weatheragent"),
        tool_call("get_weather", {"city": city}),
        text(f"{city} is sunny"),
    )


def traced_run(
    server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    receiver: OtlpReceiver,
    city: str,
    handler: str = "ask",
) -> tuple[str, list[ReceivedSpan]]:
    """Serve the app, ask ``handler`` for the weather in ``city`` (scripted as :func:`script_run`) and, once it
    answered, stop the service: the invocation id and every span it exported."""
    stack = serve(server, APP, model=model_server, env=receiver.env())
    script_run(model_server, city)
    invocation_id = stack.ingress.send("traced", handler, f"Weather in {city}?")
    assert stack.ingress.attach(invocation_id) == f"{city} is sunny"
    return invocation_id, all_spans_exported(stack, receiver)


def tree(spans: list[ReceivedSpan]) -> Counter[tuple[str, str]]:
    """(span name, parent span name) for every span; the root's parent is outside the export."""
    by_id = {span.span_id: span for span in spans}
    return Counter((span.name, by_id[span.parent_id].name if span.parent_id in by_id else "") for span in spans)


def attempt_traceparents(effects: Effects) -> list[str]:
    return [line.split(":", 1)[1] for line in effects.lines() if line.startswith("traceparent:")]


def assert_one_tree(spans: list[ReceivedSpan], invocation_id: str, effects: Effects) -> None:
    assert tree(spans) == EXPECTED_TREE
    assert len({span.span_id for span in spans}) == len(spans)  # each span exactly once

    traceparents = attempt_traceparents(effects)
    assert traceparents and all(traceparents)  # the server sent one with every attempt
    trace_ids = {tp.split("-")[1] for tp in traceparents}
    attempt_span_ids = {tp.split("-")[2] for tp in traceparents}
    assert len(trace_ids) == 1  # one invocation, one trace, across attempts
    assert {span.trace_id for span in spans} == trace_ids

    own_ids = {span.span_id for span in spans}
    roots = [span for span in spans if span.parent_id not in own_ids]
    assert [root.name for root in roots] == ["Agent workflow"]
    assert roots[0].parent_id in attempt_span_ids  # under the server's span of the attempt that ended it

    for span in spans:
        assert span.attributes["restate.invocation.id"] == invocation_id
        assert span.attributes["restate.journal.step"]
        assert span.service == "tracing-test-app"
    steps = {span.attributes["restate.journal.step"] for span in spans if span.name == "chat gpt-4o"}
    assert steps == {"LLM call: gpt-4o"}
    tool = next(span for span in spans if span.name == "execute_tool get_weather")
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool.attributes["restate.journal.step"] == "LLM call: gpt-4o"  # the step that asked for the tool


def all_spans_exported(stack: Stack, receiver: OtlpReceiver) -> list[ReceivedSpan]:
    """Stop the service gracefully (its exporter flushes at exit), then every span it will ever send is here."""
    stack.services[0].stop()
    return receiver.spans


@pytest.mark.parametrize("handler", ["ask", "ask_streamed"])
def test_one_run_exports_each_span_once(
    tracing_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    receiver: OtlpReceiver,
    effects: Effects,
    handler: str,
) -> None:
    invocation_id, spans = traced_run(tracing_server, serve, model_server, receiver, "Oslo", handler)

    assert_one_tree(spans, invocation_id, effects)
    assert len(model_server.requests) == 3
    attempts = len(attempt_traceparents(effects))
    resumed = {span.name for span in spans if span.attributes.get("restate.span.resumed")}
    if tracing_server.always_replay:
        assert attempts > 3  # the run really was replayed, several times
        assert "Agent workflow" in resumed  # begun in the first attempt, ended and exported by the last
    else:
        assert attempts == 1
        assert resumed == set()


def test_kill_mid_run_exports_each_span_once(
    tracing_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    receiver: OtlpReceiver,
    effects: Effects,
) -> None:
    stack = serve(tracing_server, APP, model=model_server, env=receiver.env())
    script_run(model_server, CITY)
    invocation_id = stack.ingress.send("traced", "ask", "Weather in Paris?")
    effects.wait_for(f"fetch:{CITY}")
    # what ended before the crash has been exported (a killed process loses what its exporter buffers)
    wait_until(
        lambda: sum(span.name == "chat gpt-4o" for span in receiver.spans) == 2,
        timeout=30,
        what="the first two model-call spans",
    )
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count(f"fetch:{CITY}", 2)  # the unfinished tool step runs again after the crash
    effects.open_gate(CITY)
    assert stack.ingress.attach(invocation_id) == f"{CITY} is sunny"
    spans = all_spans_exported(stack, receiver)

    assert_one_tree(spans, invocation_id, effects)
    assert len(model_server.requests) == 3  # no model call repeated after its answer was journaled
    assert effects.count(f"fetched:{CITY}") == 1
    if not tracing_server.always_replay:
        assert len(attempt_traceparents(effects)) == 2  # the killed attempt and the one after the restart


def test_a_failed_model_call_is_one_error_span(
    tracing_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    receiver: OtlpReceiver,
    effects: Effects,
) -> None:
    """Each real model call is one span: the failed attempt Restate retried, and the retry."""
    model_server.enqueue(error(500, "overloaded"))
    _, spans = traced_run(tracing_server, serve, model_server, receiver, "Lima")

    assert len(model_server.requests) == 4
    # the failed Responses call returned no response, so the SDK's span does not name the model
    assert tree(spans) == EXPECTED_TREE + Counter({("chat", "turn 1 Triage"): 1})
    failed = [span for span in spans if span.status_code == STATUS_ERROR]
    assert [span.name for span in failed] == ["chat"]
    assert failed[0].attributes["restate.journal.step"] == "LLM call: gpt-4o"


def test_spans_closed_by_an_error_that_fails_the_attempt_come_from_the_retry(
    tracing_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    receiver: OtlpReceiver,
    effects: Effects,
) -> None:
    """The workflow span ends with the error that makes Restate retry: only the retry's span is exported."""
    _, spans = traced_run(tracing_server, serve, model_server, receiver, "Kyiv", "ask_then_fail_once")

    assert effects.count("failing-once") == 1
    assert tree(spans) == EXPECTED_TREE
    assert [span.status_code for span in spans if span.status_code == STATUS_ERROR] == []
    assert len(model_server.requests) == 3


def test_without_server_tracing_spans_join_the_callers_trace(
    restate_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    receiver: OtlpReceiver,
    effects: Effects,
) -> None:
    """A server without tracing sends no traceparent per attempt: the caller's, kept with the invocation, is used."""
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    stack = serve(restate_server, APP, model=model_server, env=receiver.env())
    script_run(model_server, "Rome")
    response = httpx.post(
        f"{restate_server.ingress_url}/traced/ask/send",
        json="Weather in Rome?",
        headers={"traceparent": f"00-{caller_trace}-{caller_span}-01"},
        timeout=30,
    )
    invocation_id = response.json()["invocationId"]
    assert stack.ingress.attach(invocation_id) == "Rome is sunny"
    spans = all_spans_exported(stack, receiver)

    assert set(attempt_traceparents(effects)) == {""}
    assert tree(spans) == EXPECTED_TREE
    assert {span.trace_id for span in spans} == {caller_trace}
    root = next(span for span in spans if span.name == "Agent workflow")
    assert root.parent_id == caller_span
    assert {span.attributes["restate.invocation.id"] for span in spans} == {invocation_id}


# --- in-process: exporter selection and spans outside Restate ------------------------------------------
OTEL_ENV = (
    "OTEL_TRACES_EXPORTER",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
)


@pytest.fixture
def clean_otel_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in OTEL_ENV:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_no_exporter_unless_configured(clean_otel_env: pytest.MonkeyPatch) -> None:
    assert exporter_from_env() is None  # tracing on, nothing configured: no network

    clean_otel_env.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    exporter = exporter_from_env()
    assert isinstance(exporter, OTLPSpanExporter)
    assert exporter._endpoint == "http://collector:4318/v1/traces"

    clean_otel_env.setenv("OTEL_TRACES_EXPORTER", "none")
    assert exporter_from_env() is None
    clean_otel_env.setenv("OTEL_TRACES_EXPORTER", "console")
    assert isinstance(exporter_from_env(), ConsoleSpanExporter)

    clean_otel_env.setenv("OTEL_TRACES_EXPORTER", "otlp")
    clean_otel_env.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    with pytest.raises(ValueError, match="http/protobuf"):
        exporter_from_env()


def test_outside_restate_spans_keep_the_sdks_ids_and_tree() -> None:
    memory = InMemorySpanExporter()
    processor = RestateTracingProcessor(SimpleSpanProcessor(memory))
    trace = TraceImpl("Local run", None, None, None, processor)
    with trace:
        agent = SpanImpl(trace.trace_id, None, None, processor, AgentSpanData(name="Solo"), None)
        with agent:
            data = FunctionSpanData("lookup", "{}", "ok")
            tool = SpanImpl(trace.trace_id, None, agent.span_id, processor, data, None)
            with tool:
                pass
    exported = {span.name: span for span in memory.get_finished_spans()}

    assert set(exported) == {"Local run", "invoke_agent Solo", "execute_tool lookup"}
    sdk_trace_id = trace.trace_id.removeprefix("trace_")
    assert {format(span.context.trace_id, "032x") for span in exported.values()} == {sdk_trace_id}

    def span_id(name: str) -> int:
        context = exported[name].context
        assert context is not None
        return int(context.span_id)

    def parent_id(name: str) -> int | None:
        parent = exported[name].parent
        return None if parent is None else parent.span_id

    assert parent_id("Local run") is None
    assert parent_id("invoke_agent Solo") == span_id("Local run")
    assert parent_id("execute_tool lookup") == span_id("invoke_agent Solo")
    tool_attributes = exported["execute_tool lookup"].attributes or {}
    assert "restate.invocation.id" not in tool_attributes
    assert tool_attributes["gen_ai.tool.name"] == "lookup"
