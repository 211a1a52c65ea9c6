"""Switch replay-safe OpenTelemetry tracing on: one call, or ``DURABLE_AGENTS_OTEL=1``."""

from __future__ import annotations

import logging
import os
import threading

from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

from ._spans import ReplaySafeSpans

DEFAULT_SERVICE_NAME = "durable-agents"

_logger = logging.getLogger(__name__)
_lock = threading.Lock()
_enabled: ReplaySafeSpans | None = None


def enabled() -> ReplaySafeSpans | None:
    """The engine :func:`enable_tracing` installed in this process, if it was called."""
    return _enabled


def exporter_from_env() -> SpanExporter | None:
    """The exporter the standard ``OTEL_*`` variables ask for, or ``None``: no network unless configured.

    - ``OTEL_TRACES_EXPORTER=none`` -> none; ``=console`` -> spans printed to stdout;
    - an OTLP endpoint (``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_ENDPOINT``) or
      ``OTEL_TRACES_EXPORTER=otlp`` -> the OTLP/HTTP (protobuf) exporter, configured by the usual
      ``OTEL_EXPORTER_OTLP_*`` variables (headers, timeout, compression, certificates);
    - nothing set -> none. Unlike the OpenTelemetry default, nothing is sent to ``localhost:4318``
      just because tracing was switched on.
    """
    choice = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if choice == "none":
        return None
    if choice == "console":
        return ConsoleSpanExporter()
    if choice not in ("", "otlp"):
        raise ValueError(f"OTEL_TRACES_EXPORTER={choice!r} is not supported here; use otlp, console or none")
    if choice == "" and not endpoint:
        return None
    protocol = (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    ).strip()
    if protocol not in ("", "http/protobuf"):
        raise ValueError(
            f"OTLP protocol {protocol!r} is not supported: the otel extra ships the http/protobuf exporter "
            "(port 4318 on a collector); pass your own exporter to enable_tracing(exporter=...)"
        )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _resource(service_name: str | None) -> Resource:
    resource = Resource.create()
    named_by_env = "OTEL_SERVICE_NAME" in os.environ or "service.name=" in os.environ.get(
        "OTEL_RESOURCE_ATTRIBUTES", ""
    )
    if service_name is not None or not named_by_env:
        resource = resource.merge(Resource({SERVICE_NAME: service_name or DEFAULT_SERVICE_NAME}))
    return resource


def enable_tracing(
    exporter: SpanExporter | None = None,
    *,
    service_name: str | None = None,
    replace_processors: bool = True,
) -> ReplaySafeSpans:
    """Export agent runs' spans as OpenTelemetry spans, once each across Restate replays.

    The OpenAI Agents SDK's spans (when it is installed: the returned engine is then its
    ``RestateTracingProcessor``) and Google ADK's runs under ``DurablePlugin`` (which asks
    ``integrations.tracing.active_spans()`` for this engine).

    ``exporter`` defaults to :func:`exporter_from_env` (the OTLP/HTTP exporter when an
    ``OTEL_EXPORTER_OTLP_*ENDPOINT`` is set, else nothing leaves the process); spans are batched by a
    ``BatchSpanProcessor`` (``OTEL_BSP_*`` settings). ``service_name`` defaults to ``OTEL_SERVICE_NAME``
    or ``"durable-agents"``.

    ``replace_processors=True`` replaces the SDK's processors, including its default exporter to the
    OpenAI tracing backend (which would upload every run with the OpenAI API key), so the toolkit no
    longer needs ``OPENAI_AGENTS_DISABLE_TRACING=1``; it also turns the SDK's tracing back on if that
    variable is set. ``False`` adds this processor next to the existing ones.

    Calling it again returns the processor already installed (its arguments are then ignored, with a
    warning): the serve process may have enabled it already from ``DURABLE_AGENTS_OTEL=1``.
    """
    global _enabled
    with _lock:
        if _enabled is not None:
            if exporter is not None or service_name is not None:
                _logger.warning(
                    "tracing was already enabled (DURABLE_AGENTS_OTEL=1 or an earlier call); "
                    "the exporter/service_name of this call are ignored"
                )
            return _enabled
        chosen = exporter if exporter is not None else exporter_from_env()
        if chosen is None:
            _logger.info("tracing enabled without an exporter: set OTEL_EXPORTER_OTLP_ENDPOINT to send spans")
        span_processor = BatchSpanProcessor(chosen) if chosen is not None else None
        _enabled = _engine(span_processor, _resource(service_name), replace_processors)
        return _enabled


def _engine(span_processor: SpanProcessor | None, resource: Resource, replace_processors: bool) -> ReplaySafeSpans:
    """The engine, registered with the OpenAI Agents SDK when that is installed (an ADK-only install
    has no SDK to register with: the ADK plugin asks for the engine itself)."""
    try:
        from agents.tracing import add_trace_processor, set_trace_processors, set_tracing_disabled
    except ImportError:
        return ReplaySafeSpans(span_processor, resource=resource)
    from ._processor import RestateTracingProcessor

    processor = RestateTracingProcessor(span_processor, resource=resource)
    if replace_processors:
        set_trace_processors([processor])
    else:
        add_trace_processor(processor)
    set_tracing_disabled(False)
    return processor
