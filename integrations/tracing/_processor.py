"""``RestateTracingProcessor``: the OpenAI Agents SDK's spans as OpenTelemetry spans, each exported once.

The SDK reports every trace and span (workflow, agent, turn, model call, tool, handoff) to its
processors; this one hands them to the replay-safe engine (``_spans.ReplaySafeSpans``, whose
docstring says how each span is exported exactly once across Restate's replays), under the SDK's
own span ids as keys, named and attributed the way the GenAI semantic conventions name them.

Every span carries ``restate.invocation.id`` and ``restate.journal.step`` (the engine's docstring
says which step each span names).
"""

from __future__ import annotations

import json
from typing import Any

from agents.tracing import Span, Trace, TracingProcessor
from agents.tracing.span_data import (
    AgentSpanData,
    CustomSpanData,
    FunctionSpanData,
    GenerationSpanData,
    GuardrailSpanData,
    HandoffSpanData,
    MCPListToolsSpanData,
    ResponseSpanData,
    SpanData,
    TaskSpanData,
    TurnSpanData,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from ._spans import INVOCATION_ID, JOURNAL_STEP, RESUMED, ReplaySafeSpans

__all__ = ["INVOCATION_ID", "JOURNAL_STEP", "RESUMED", "RestateTracingProcessor"]


def _identity(data: SpanData) -> str:
    """What distinguishes siblings of one kind, known when the span starts."""
    if isinstance(data, (AgentSpanData, FunctionSpanData, GuardrailSpanData, CustomSpanData, TaskSpanData)):
        return data.name
    if isinstance(data, TurnSpanData):
        return f"{data.agent_name}#{data.turn}"
    if isinstance(data, HandoffSpanData):
        return data.from_agent or ""
    if isinstance(data, MCPListToolsSpanData):
        return data.server or ""
    return ""


def _model_name(data: SpanData) -> str | None:
    if isinstance(data, GenerationSpanData):
        return data.model
    if isinstance(data, ResponseSpanData) and data.response is not None:
        return data.response.model
    return getattr(data, "model", None)


def _span_name(data: SpanData) -> str:
    if isinstance(data, AgentSpanData):
        return f"invoke_agent {data.name}"
    if isinstance(data, FunctionSpanData):
        return f"execute_tool {data.name}"
    if isinstance(data, (GenerationSpanData, ResponseSpanData)):
        model = _model_name(data)
        return f"chat {model}" if model else "chat"
    if isinstance(data, HandoffSpanData):
        return f"handoff {data.from_agent} -> {data.to_agent}"
    if isinstance(data, GuardrailSpanData):
        return f"guardrail {data.name}"
    if isinstance(data, TaskSpanData):
        return f"task {data.name}"
    if isinstance(data, TurnSpanData):
        return f"turn {data.turn} {data.agent_name}"
    if isinstance(data, MCPListToolsSpanData):
        return f"mcp_tools {data.server}"
    if isinstance(data, CustomSpanData):
        return data.name
    return data.type


def _value(value: Any) -> AttributeValue:
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(item, str) for item in value):
        return list(value)
    return json.dumps(value, default=str)


def _usage(data: SpanData) -> dict[str, Any]:
    usage = getattr(data, "usage", None)
    if isinstance(data, ResponseSpanData) and data.response is not None and data.response.usage is not None:
        usage = data.response.usage.model_dump()
    return usage if isinstance(usage, dict) else {}


def _attributes(data: SpanData) -> dict[str, AttributeValue]:
    """The SDK's own fields (``openai_agents.*``) plus the GenAI semantic-convention basics."""
    attributes: dict[str, AttributeValue] = {"openai_agents.span.type": data.type}
    for key, value in data.export().items():
        if key != "type" and value is not None:
            attributes[f"openai_agents.{key}"] = _value(value)
    if isinstance(data, AgentSpanData):
        attributes.update({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": data.name})
    elif isinstance(data, FunctionSpanData):
        attributes.update({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": data.name})
    elif isinstance(data, (GenerationSpanData, ResponseSpanData)):
        attributes["gen_ai.operation.name"] = "chat"
        model = _model_name(data)
        if model:
            attributes["gen_ai.request.model"] = model
        if isinstance(data, ResponseSpanData) and data.response is not None:
            attributes["gen_ai.response.id"] = data.response.id
        usage = _usage(data)
        for ours, theirs in (("input_tokens", "prompt_tokens"), ("output_tokens", "completion_tokens")):
            tokens = usage.get(ours, usage.get(theirs))
            if isinstance(tokens, int):
                attributes[f"gen_ai.usage.{ours}"] = tokens
    return attributes


class RestateTracingProcessor(ReplaySafeSpans, TracingProcessor):
    """An Agents SDK ``TracingProcessor`` that exports OpenTelemetry spans, once each across replays.

    Register it with ``agents.set_trace_processors([processor])`` (or use
    :func:`integrations.tracing.enable_tracing`, which also replaces the SDK's default exporter to the
    OpenAI backend). Spans go to ``span_processor`` (e.g. a ``BatchSpanProcessor`` around an OTLP
    exporter) through a private ``TracerProvider``, so ``OTEL_TRACES_SAMPLER``, span limits and
    ``OTEL_RESOURCE_ATTRIBUTES``/``OTEL_SERVICE_NAME`` apply as usual. Outside a Restate handler it
    exports every span as it ends.

    Spans are exported when they end, so whatever the span processor still buffers dies with a
    killed process: a ``BatchSpanProcessor`` loses at most its last ``OTEL_BSP_SCHEDULE_DELAY``.
    """

    def __init__(self, span_processor: SpanProcessor | None, *, resource: Resource | None = None) -> None:
        ReplaySafeSpans.__init__(self, span_processor, resource=resource)

    def on_trace_start(self, trace: Trace) -> None:
        self.start(trace.trace_id, trace.trace_id, None, "trace", trace.name)

    def on_trace_end(self, trace: Trace) -> None:
        self.end(trace.trace_id, trace.trace_id, None, trace.name, SpanKind.INTERNAL, {}, None)

    def on_span_start(self, span: Span[Any]) -> None:
        data = span.span_data
        self.start(span.span_id, span.trace_id, span.parent_id, data.type, _identity(data))

    def on_span_end(self, span: Span[Any]) -> None:
        data = span.span_data
        error = span.error
        message = None
        if error is not None:
            message = error.get("message") or "error"
            if error.get("data"):
                message = f"{message}: {json.dumps(error['data'], default=str)}"
        kind = SpanKind.CLIENT if isinstance(data, (GenerationSpanData, ResponseSpanData)) else SpanKind.INTERNAL
        self.end(span.span_id, span.trace_id, span.parent_id, _span_name(data), kind, _attributes(data), message)

    def shutdown(self) -> None:
        """Flush what the span processor buffers and stop it (the SDK calls this at exit)."""
        ReplaySafeSpans.shutdown(self)

    def force_flush(self) -> None:
        ReplaySafeSpans.force_flush(self)
