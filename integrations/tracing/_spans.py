"""``ReplaySafeSpans``: OpenTelemetry spans of agent runs, each exported once across Restate replays.

The engine both agent adapters feed: the OpenAI Agents SDK's spans through ``RestateTracingProcessor``
(``_processor``), Google ADK's through its ``DurablePlugin`` (``integrations.google_adk._tracing``). An
adapter reports each span's ``start`` and ``end`` under keys of its own (its SDK's span ids, or ids it
derives); the engine decides whether, and under which ids, the span is exported.

Inside a Restate handler every attempt re-runs the handler code from the top and replays the journal,
so the SDK re-creates every agent, turn, handoff and tool span on every attempt (an always-replay
server suspends at every await: a run of three model calls has four or more attempts). Exporting what
the SDK reports would multiply the telemetry with each replay (pydantic-ai #6974 measured 6-13x).

How each span is exported exactly once:

- **Decide at the end, from the journal.** A span is exported by the attempt in which it *ends* while
  the handler is no longer replaying. If it ends while entries after it are still being replayed, an
  earlier attempt already ran past that point without replaying and exported it. Deciding at the end
  (not at the start, as ``restate.ext.tracing`` does) keeps the spans that begin in replay and finish
  with new work, such as the agent span of a run that suspended after its first model call.
- **Spans cut short are not exported.** When an attempt suspends or is cancelled the SDK still closes
  its open spans while the ``SuspendedException``/``CancelledError`` unwinds; those are dropped (the
  next attempt re-creates and finishes them). A span closed by another error is held until the attempt
  ends: dropped if that same error fails the attempt (Restate retries it and the retry re-creates the
  span), exported otherwise (the error was handled, or ended the invocation for good).
- **Deterministic ids.** A logical span keeps its span id across attempts: it is derived from the
  invocation id, the parent's id, the span's kind and name, and how many such siblings came before.
  That keeps the tree whole when a parent is exported by a later attempt than its children (an agent
  span ends in the last attempt; its first model call was exported by the first).
- **The boundary after the last stored entry.** A span that ends after the attempt's last journal
  entry, in an attempt that then fails (say, handler code after the agent run raises), ends again
  without replay in the retry: nothing in the journal marks that the failed attempt got there. The
  processor remembers the span ids it exported per unfinished invocation, so a retry in the same
  process skips them. A retry in another process (after a crash in that window, or on another replica)
  re-exports such a span under the same trace and span id, so it is the same span to the backend
  rather than a new one; that is the one duplicate the scheme allows.
- **Work inside a journaled step** (a model call inside ``DurableModel``'s ``ctx.run``) happens only
  in the attempt that executes the step: those spans get fresh ids and are always exported. Each real
  model call, including a failed one Restate retried, is one span; a replayed call is none.

Every span carries ``restate.invocation.id`` and ``restate.journal.step``: the name of the journaled
step whose body produced it (``"LLM call: gpt-4o"``, ``"Tool: lookup"``), or for spans that wrap steps
(workflow, agent, turn, tool, handoff) the latest such step the handler entered before the span ended
(the handler's own name before the first). Steps are known through :func:`journal_step`, which
``DurableModel`` and ``durable_function_tool(journal=True)`` use; a tool's own ``ctx.run`` is not
seen, so its tool span carries the model call that asked for the tool.

The trace id is Restate's: the W3C ``traceparent`` the server sends with each attempt (when the server
has tracing enabled), else the caller's ``traceparent`` recorded with the invocation, else one derived
from the invocation id. The SDK's workflow trace becomes a span under the attempt's span, so the
server's invocation trace and the agent's spans form one tree.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field

from opentelemetry import context as otel_context, trace as otel_trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, Status, StatusCode, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentelemetry.util.types import AttributeValue
from restate.exceptions import SdkInternalBaseException, TerminalError
from restate.server_context import ServerInvocationContext, restate_context_is_replaying

from .._context import running_context
from ._steps import current_step, last_step

__all__ = ["INVOCATION_ID", "JOURNAL_STEP", "RESUMED", "ReplaySafeSpans"]

INVOCATION_ID = "restate.invocation.id"
"""Attribute: the Restate invocation the span belongs to."""
JOURNAL_STEP = "restate.journal.step"
"""Attribute: the journal step that produced the span, or the latest one before it ended."""
RESUMED = "restate.span.resumed"
"""Attribute, set when true: the span began in an earlier attempt; its start is when this attempt
re-entered it (Restate does not hand the service the original time)."""

_ATTEMPT_KEY = "durable_agents.tracing_attempt"
_REMEMBERED_INVOCATIONS = 4096  # unfinished invocations whose exported span ids this process remembers
_SCOPE = "integrations.tracing"
_propagator = TraceContextTextMapPropagator()
_chosen_ids: ContextVar[tuple[int, int] | None] = ContextVar("durable_agents_otel_ids", default=None)
_fresh = random.SystemRandom()  # ids of step-body spans; leaves the handler's own random state alone


class _ChosenIds(IdGenerator):
    """Hands the OpenTelemetry SDK the ids the processor derived; random ones otherwise."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        chosen = _chosen_ids.get()
        return chosen[1] if chosen is not None else self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        chosen = _chosen_ids.get()
        return chosen[0] if chosen is not None else self._random.generate_trace_id()


def _digest(text: str, size: int) -> int:
    value = int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "big")
    return value or 1  # 0 is the invalid id


def _plain_ids(key: str, trace_key: str, parent_key: str | None) -> tuple[int, SpanContext | None]:
    """The trace id and parent of a span outside any Restate handler: the SDK's own trace id where
    the key carries one (``trace_<32 hex>``), else ids derived from the keys, so they follow the SDK's."""
    hex_id = trace_key.removeprefix("trace_")
    try:
        trace_id = int(hex_id, 16) if len(hex_id) == 32 else _digest(trace_key, 16)
    except ValueError:
        trace_id = _digest(trace_key, 16)
    parent = None
    if key != trace_key:
        parent = SpanContext(trace_id, _digest(parent_key or trace_key, 8), False, TraceFlags(TraceFlags.SAMPLED))
    return trace_id, parent


@dataclass
class _Finished:
    """Everything needed to hand one span to OpenTelemetry."""

    name: str
    kind: SpanKind
    trace_id: int
    span_id: int
    parent: SpanContext | None
    start_ns: int
    end_ns: int
    attributes: dict[str, AttributeValue]
    error: str | None


@dataclass
class _Open:
    span_id: int
    start_ns: int
    resumed: bool
    step: str | None


@dataclass
class _Attempt:
    """Bookkeeping for one attempt of one invocation, kept in the handler context's extension data.

    Restate builds a new context per attempt, so ids and counters start over on every attempt and are
    re-derived in the same order. ``__close__`` runs when the handler finishes (the exception it ends
    with, if any, is the one being handled at that point).
    """

    processor: ReplaySafeSpans
    ctx: ServerInvocationContext
    invocation_id: str
    trace_id: int
    attempt_parent: SpanContext | None
    flags: TraceFlags
    handler: str
    ids: dict[str, int] = field(default_factory=dict)
    counts: dict[tuple[int, str, str], int] = field(default_factory=dict)
    open: dict[str, _Open] = field(default_factory=dict)
    pending: list[tuple[_Finished, BaseException]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_id(self, parent_id: int, kind: str, name: str) -> int:
        key = (parent_id, kind, name)
        with self.lock:
            index = self.counts.get(key, 0)
            self.counts[key] = index + 1
        return _digest(f"{self.invocation_id}|{parent_id:016x}|{kind}|{name}|{index}", 8)

    def replaying(self) -> bool:
        if current_step() is not None:
            return False  # a step body runs only when the step is not in the journal
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a sync step body in a worker thread: the VM belongs to the loop's thread
            return restate_context_is_replaying.get()
        return bool(self.ctx.vm.is_replaying())

    def export(self, finished: _Finished) -> None:
        if self.processor._first_export(self.invocation_id, finished.span_id):
            self.processor._export(finished)

    def __close__(self) -> None:
        failure = sys.exc_info()[1]
        with self.lock:
            pending, self.pending = self.pending, []
        for finished, error in pending:
            if failure is not None and not isinstance(failure, TerminalError) and _caused_by(failure, error):
                continue  # this error fails the attempt; Restate retries and the retry re-creates the span
            self.export(finished)
        if failure is None or isinstance(failure, TerminalError):
            self.processor._forget(self.invocation_id)  # the invocation is over: no attempt follows


def _caused_by(failure: BaseException, error: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = failure
    while current is not None and id(current) not in seen:
        if current is error:
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _handler_name(ctx: ServerInvocationContext) -> str:
    handler = getattr(ctx, "handler", None)
    service = getattr(getattr(handler, "service_tag", None), "name", None)
    name = getattr(handler, "name", None)
    return f"{service}/{name}" if service and name else "handler"


def _remote_parent(headers: Mapping[str, str]) -> SpanContext | None:
    span_context = otel_trace.get_current_span(_propagator.extract(dict(headers))).get_span_context()
    return span_context if span_context.is_valid else None


def _new_attempt(processor: ReplaySafeSpans, ctx: ServerInvocationContext) -> _Attempt:
    request = ctx.request()
    attempt_parent = _remote_parent(request.attempt_headers) or _remote_parent(request.headers)
    if attempt_parent is not None:
        trace_id, flags = attempt_parent.trace_id, attempt_parent.trace_flags
    else:
        trace_id, flags = _digest(f"trace|{request.id}", 16), TraceFlags(TraceFlags.SAMPLED)
    return _Attempt(
        processor=processor,
        ctx=ctx,
        invocation_id=request.id,
        trace_id=trace_id,
        attempt_parent=attempt_parent,
        flags=flags,
        handler=_handler_name(ctx),
    )


class ReplaySafeSpans:
    """Exports the spans adapters report with ``start``/``end`` as OpenTelemetry spans, once each across
    replays (module docstring). :func:`integrations.tracing.enable_tracing` builds the process's
    one instance (``active_spans()`` returns it). Spans go to ``span_processor`` (e.g. a
    ``BatchSpanProcessor`` around an OTLP exporter) through a private ``TracerProvider``, so
    ``OTEL_TRACES_SAMPLER``, span limits and ``OTEL_RESOURCE_ATTRIBUTES``/``OTEL_SERVICE_NAME`` apply
    as usual. Outside a Restate handler it exports every span as it ends.

    Spans are exported when they end, so whatever the span processor still buffers dies with a
    killed process: a ``BatchSpanProcessor`` loses at most its last ``OTEL_BSP_SCHEDULE_DELAY``.
    """

    def __init__(self, span_processor: SpanProcessor | None, *, resource: Resource | None = None) -> None:
        self._provider = TracerProvider(resource=resource, id_generator=_ChosenIds(), shutdown_on_exit=False)
        self.span_processor = span_processor
        if span_processor is not None:
            self._provider.add_span_processor(span_processor)
        self._tracer = self._provider.get_tracer(_SCOPE)
        self._lock = threading.Lock()
        self._plain: dict[str, int] = {}  # start times of spans outside Restate
        self._exported: OrderedDict[str, set[int]] = OrderedDict()  # invocation id -> span ids sent
        self._closed = False

    def shutdown(self) -> None:
        """Flush what the span processor buffers and stop it (the SDK calls this at exit)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._provider.shutdown()

    def force_flush(self) -> None:
        self._provider.force_flush()

    # --- bookkeeping ----------------------------------------------------------------------------------
    def _attempt(self) -> _Attempt | None:
        ctx = running_context()
        if not isinstance(ctx, ServerInvocationContext):
            return None
        attempt = ctx.extension_data.get(_ATTEMPT_KEY)
        if not isinstance(attempt, _Attempt):
            attempt = _new_attempt(self, ctx)
            ctx.extension_data[_ATTEMPT_KEY] = attempt
        return attempt

    def start(self, key: str, trace_key: str, parent_key: str | None, kind: str, name: str) -> None:
        """A span begins: ``key`` names it until it ends, ``trace_key`` its trace's root (``key`` itself
        for the root, whose ``kind`` is ``"trace"``), ``parent_key`` its parent (``None``: the root).
        ``kind`` and ``name`` tell siblings apart: a span's id is derived from them and from how many
        such siblings started before it in this invocation (deterministic across attempts)."""
        now = time.time_ns()
        attempt = self._attempt()
        if attempt is None:
            with self._lock:
                self._plain[key] = now
            return
        step = current_step()
        parent_id = attempt.ids.get(parent_key or trace_key, 0) if kind != "trace" else 0
        if step is not None:  # created inside a step body: runs once per execution of the step
            span_id = _fresh.getrandbits(64) or 1
        else:
            span_id = attempt.next_id(parent_id, kind, name)
        attempt.ids[key] = span_id
        attempt.open[key] = _Open(span_id, now, resumed=step is None and attempt.replaying(), step=step)

    def end(
        self,
        key: str,
        trace_key: str,
        parent_key: str | None,
        name: str,
        kind: SpanKind,
        attributes: dict[str, AttributeValue],
        error: str | None,
    ) -> None:
        """The span ``key`` ends: exported now (or held until the attempt ends) unless this point of
        the handler is being replayed or the attempt is unwinding (module docstring)."""
        now = time.time_ns()
        attempt = self._attempt()
        if attempt is None:  # outside any Restate handler: exported as it ends
            with self._lock:
                start = self._plain.pop(key, None)
            if start is not None:
                trace_id, above = _plain_ids(key, trace_key, parent_key)
                self._export(_Finished(name, kind, trace_id, _digest(key, 8), above, start, now, attributes, error))
            return
        opened = attempt.open.pop(key, None)
        if opened is None:
            return  # started before this processor was registered
        unwinding = sys.exc_info()[1]
        if isinstance(unwinding, (SdkInternalBaseException, asyncio.CancelledError)):
            return  # the attempt is suspending or cancelled: a later attempt finishes this span
        if attempt.replaying():
            return  # journal entries after this point exist: an earlier attempt exported it
        attributes[INVOCATION_ID] = attempt.invocation_id
        attributes[JOURNAL_STEP] = opened.step or last_step(attempt.ctx) or attempt.handler
        if opened.resumed:
            attributes[RESUMED] = True
        if error is None and unwinding is not None and not isinstance(unwinding, GeneratorExit):
            error = f"{type(unwinding).__name__}: {unwinding}"
        parent_id = attempt.ids.get(parent_key or trace_key) if trace_key != key else None
        if parent_id is not None:
            parent: SpanContext | None = SpanContext(attempt.trace_id, parent_id, False, attempt.flags)
        else:
            parent = attempt.attempt_parent
        finished = _Finished(
            name, kind, attempt.trace_id, opened.span_id, parent, opened.start_ns, now, attributes, error
        )
        if unwinding is None or isinstance(unwinding, (TerminalError, GeneratorExit)):
            attempt.export(finished)
        else:
            with attempt.lock:
                attempt.pending.append((finished, unwinding))

    def _first_export(self, invocation_id: str, span_id: int) -> bool:
        """Whether this process has not yet exported ``span_id`` of the invocation (and note it now)."""
        with self._lock:
            sent = self._exported.get(invocation_id)
            if sent is None:
                sent = self._exported[invocation_id] = set()
                while len(self._exported) > _REMEMBERED_INVOCATIONS:
                    self._exported.popitem(last=False)
            else:
                self._exported.move_to_end(invocation_id)
            if span_id in sent:
                return False
            sent.add(span_id)
            return True

    def _forget(self, invocation_id: str) -> None:
        with self._lock:
            self._exported.pop(invocation_id, None)

    def _export(self, finished: _Finished) -> None:
        if self.span_processor is None:
            return  # tracing on without an exporter: nothing to build
        if finished.parent is not None:
            context = otel_trace.set_span_in_context(NonRecordingSpan(finished.parent), otel_context.Context())
        else:
            context = otel_context.Context()
        token = _chosen_ids.set((finished.trace_id, finished.span_id))
        try:
            span = self._tracer.start_span(
                finished.name,
                context=context,
                kind=finished.kind,
                attributes=finished.attributes,
                start_time=finished.start_ns,
            )
        finally:
            _chosen_ids.reset(token)
        if finished.error is not None:
            span.set_status(Status(StatusCode.ERROR, finished.error))
        span.end(end_time=finished.end_ns)
