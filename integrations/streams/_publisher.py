"""Publishing a run's events: streamed from inside the journaled model call, or sent from the journal.

Two paths, chosen by where the event is known:

- **Inside the model-call step** (``ctx.run``) the model adapter calls the provider's streaming API
  and emits every text delta and tool call to an ``AttemptPublisher``, which sends them to the
  topic over the ingress as they arrive. The step
  still returns one complete ``ModelResponse``: the journal holds one entry per model call. On a
  replay the step's result comes from the journal and this code never runs, so nothing is
  republished. A retried attempt asks the topic to number it first (``begin_attempt``), which
  appends a ``reset`` for the step; each batch carries an idempotency key made of (invocation,
  step, attempt, first..last index), so a publish call retried over the network stores nothing twice.
- **In handler code** (tool results, the answer, approvals) events go out with ``ctx.generic_send``:
  a journaled send, which Restate performs once and skips on replay.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import restate

from .._content import text_parts
from .._context import running_context
from ._events import JOURNALED, AgentEvent, AttemptStart, EventKind, PublishRequest
from ._hints import hints
from ._ingress import IngressCallError, call_object
from ._topic import EVENTS_OBJECT

__all__ = ["AttemptPublisher", "ModelStep", "TopicPublisher", "current_publisher"]

log = logging.getLogger(__name__)

MAX_BATCH = 200
MAX_TEXT = 20_000
"""Longer tool outputs are cut in their event (the model and the journal still get all of it)."""
_RETRY_DELAYS = (0.05, 0.25, 1.0)
_ANSWER_ITEMS = frozenset({"message", "reasoning"})


def _text_of(content: Any) -> str:
    return "".join(text_parts(content))


def _item(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    dump = getattr(item, "model_dump", None)
    return dump(mode="json", exclude_unset=True) if callable(dump) else {}


def _since_last_user(input: str | Sequence[Any]) -> tuple[str | None, list[dict[str, Any]]]:
    """The newest user message of a model input and the items after it (this turn's tool results)."""
    if isinstance(input, str):
        return input, []
    items = [_item(i) for i in input]
    last = max((n for n, i in enumerate(items) if i.get("role") == "user"), default=-1)
    return (_text_of(items[last].get("content")) if last >= 0 else None), items[last + 1 :]


@dataclass
class _Run:
    """What one invocation has published so far; rebuilt identically when the handler replays."""

    model_calls: int = 0
    results_sent: set[str] = field(default_factory=set)


_CURRENT: weakref.WeakKeyDictionary[restate.Context, TopicPublisher] = weakref.WeakKeyDictionary()
"""The publisher of the run in each invocation: tools reach it through ``current_publisher``."""


def current_publisher(ctx: restate.Context | None = None) -> TopicPublisher | None:
    """The ``TopicPublisher`` the current invocation's agent run publishes to, if it has one.

    A tool calls it to announce an approval or a custom event on the run's own topic, instead of
    building a second publisher with a topic name it would have to repeat. ``ctx`` defaults to the
    running handler's context. A publisher is the invocation's once a durable run uses it
    (``DurableRunner.run(..., events=...)``) or its first model call went through it.
    """
    ctx = ctx if ctx is not None else running_context()
    return _CURRENT.get(ctx) if ctx is not None else None


class TopicPublisher:
    """Publishes the events of agent runs to a topic of the ``AgentEvents`` object.

    Pass it to the run, ``DurableRunner.run(agent, input, context=ctx, events=TopicPublisher("Chat:42"))``,
    or to the durable model path, ``DurableModelCalls(ctx, events=TopicPublisher("Chat:42"))``: each
    model call then streams from the provider while it runs, and the run's tool results and answer
    follow from the journal. ``topic=None`` publishes each invocation to its own topic, the
    invocation id. ``object_name`` is the topic object's name as registered (see ``events_object``).
    Inside the run, ``current_publisher(ctx)`` returns it (for ``await_approval`` and ``custom``).

    Publishing never fails a model call: a topic that cannot be reached is logged and skipped, and
    ``flush_timeout`` bounds how long a finished model call waits for its events to be stored.
    """

    def __init__(
        self,
        topic: str | None = None,
        *,
        object_name: str = EVENTS_OBJECT,
        flush_timeout: float = 10.0,
    ) -> None:
        if topic is not None and not topic:
            raise ValueError("topic must be a non-empty string, or None for one topic per invocation")
        self.topic = topic
        self.object_name = object_name
        self.flush_timeout = flush_timeout
        self._runs: weakref.WeakKeyDictionary[restate.Context, _Run] = weakref.WeakKeyDictionary()

    def topic_of(self, ctx: restate.Context) -> str:
        """The topic this invocation publishes to."""
        return self.topic or ctx.request().id

    def _run(self, ctx: restate.Context) -> _Run:
        run = self._runs.get(ctx)
        if run is None:
            run = self._runs[ctx] = _Run()
        return run

    def attach(self, ctx: restate.Context) -> None:
        """Make this the invocation's publisher (what ``current_publisher(ctx)`` returns)."""
        _CURRENT[ctx] = self

    def custom(self, ctx: restate.Context, name: str, data: dict[str, Any] | None = None) -> None:
        """Publish an event of your own, ``kind: "custom"`` with ``data = {"name": name, "data": data}``.

        Journaled like every handler-code event (sent once, not again on replay); call it from handler
        or tool code, not inside ``ctx.run``. Readers that do not know ``name`` skip it.
        """
        if not name:
            raise ValueError("a custom event needs a name")
        self.send(ctx, [("custom", f"custom {name}", {"name": name, "data": data or {}})])

    # -- handler code: journaled, exactly once ------------------------------------------------------

    def send(self, ctx: restate.Context, events: list[tuple[EventKind, str, dict[str, Any]]]) -> None:
        """Publish ``(kind, step, data)`` events from handler code with one journaled send.

        Restate journals the send: it happens once, and a replay of the handler does not repeat it.
        Call it only from handler code (never inside ``ctx.run``).
        """
        if not events:
            return
        invocation = ctx.request().id
        request = PublishRequest(
            events=[
                AgentEvent(kind=kind, invocation_id=invocation, step=step, attempt=JOURNALED, index=n, data=data)
                for n, (kind, step, data) in enumerate(events)
            ]
        )
        ctx.generic_send(self.object_name, "publish", request.model_dump_json().encode(), key=self.topic_of(ctx))

    def model_step(self, ctx: restate.Context, model_name: str, input: str | Sequence[Any]) -> ModelStep:
        """Called by a durable model adapter before it journals a model call (in handler code).

        ``input`` is the call's input: a string or Responses-style items (dicts or pydantic models
        with ``role``/``type``). Publishes what the run learned since the previous call (its input,
        tool results) and returns the step: inside the journaled call the adapter streams through
        ``step.attempt()``, after it reports the journaled output with ``step.journaled(...)``.
        """
        self.attach(ctx)
        run = self._run(ctx)
        run.model_calls += 1
        step = f"model {run.model_calls}: {model_name}"
        user_text, this_turn = _since_last_user(input)
        events: list[tuple[EventKind, str, dict[str, Any]]] = []
        if run.model_calls == 1:
            events.append(("run_started", step, {"input": user_text or ""}))
        for item in this_turn:
            call_id = str(item.get("call_id") or "")
            if item.get("type") == "function_call_output" and call_id and call_id not in run.results_sent:
                run.results_sent.add(call_id)
                output = item.get("output")
                shown = _text_of(output) or str(output)
                data: dict[str, Any] = {"call_id": call_id, "output": shown[:MAX_TEXT]}
                if len(shown) > MAX_TEXT:
                    data["truncated"] = len(shown)
                events.append(("tool_result", f"tool {call_id}", data))
        self.send(ctx, events)
        return ModelStep(self, ctx, step)


class ModelStep:
    """One model call of a run: streams inside the journaled step, reports the answer after it.

    Model-SDK free: the adapter that owns the model (``integrations.openai_agents``) turns the
    provider's stream into ``text_delta``/``tool_call``/``error`` events of an ``attempt()``.
    """

    def __init__(self, publisher: TopicPublisher, ctx: restate.Context, step: str) -> None:
        self.publisher = publisher
        self.ctx = ctx
        self.step = step
        self.topic = publisher.topic_of(ctx)
        self.invocation_id = ctx.request().id

    @property
    def flush_timeout(self) -> float:
        return self.publisher.flush_timeout

    def attempt(self) -> AttemptPublisher:
        """Inside the journaled step: a publisher for this attempt's events (one per execution)."""
        return AttemptPublisher(self)

    def journaled(self, output: Sequence[Any]) -> None:
        """After the step is journaled (handler code): output items without tool calls are the answer."""
        items = [_item(i) for i in output]
        if items and all(i.get("type") in _ANSWER_ITEMS for i in items):
            text = "".join(_text_of(i.get("content")) for i in items if i.get("type") == "message")
            self.publisher.send(self.ctx, [("answer", self.step, {"text": text})])


class AttemptPublisher:
    """Sends one attempt's events in order, batching whatever piles up while a call is in flight.

    Made by ``ModelStep.attempt()`` inside the journaled model call: ``emit`` each event as the
    provider streams it, then ``close`` (waits until they are stored) or ``abort`` (cancelled).
    """

    def __init__(self, step: ModelStep) -> None:
        self.step = step
        self.attempt: int | None = None
        self._pending: list[tuple[EventKind, dict[str, Any]]] = []
        self._sent = 0
        self._closing = False
        self._wake = asyncio.Event()
        self._token = uuid.uuid4().hex  # names this execution of the step: a retried call is not a new attempt
        self._task = asyncio.create_task(self._run(), name=f"publish {step.topic} {step.step}")

    def emit(self, kind: EventKind, data: dict[str, Any]) -> None:
        """Queue one event of this attempt; it is sent in order with whatever else piled up."""
        self._pending.append((kind, data))
        self._wake.set()

    async def close(self, timeout: float) -> None:
        """Wait (at most ``timeout`` seconds) until every emitted event is stored."""
        self._closing = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except TimeoutError:
            log.warning(
                "events of %s on topic %s: still not stored after %.0fs, given up",
                self.step.step,
                self.step.topic,
                timeout,
            )
            self._task.cancel()

    def abort(self) -> None:
        """The call was cancelled: stop sending (what was sent stays; a retry resets the step)."""
        self._task.cancel()

    async def _call(self, handler: str, payload: Any, idempotency_key: str) -> Any:
        step = self.step
        for delay in (*_RETRY_DELAYS, None):
            try:
                return await call_object(
                    step.publisher.object_name, step.topic, handler, payload, idempotency_key=idempotency_key
                )
            except IngressCallError as err:
                if not err.retryable or delay is None:
                    raise
            except httpx.TransportError:
                if delay is None:
                    raise
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")

    async def _run(self) -> None:
        step = self.step
        base = f"{step.invocation_id}|{step.step}"
        try:
            info = await self._call(
                "begin_attempt",
                AttemptStart(invocation_id=step.invocation_id, step=step.step),
                f"{base}|begin|{self._token}",
            )
            self.attempt = int(info["attempt"])
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._sent < len(self._pending):
                    batch = self._pending[self._sent : self._sent + MAX_BATCH]
                    first = self._sent
                    events = [
                        AgentEvent(
                            kind=kind,
                            invocation_id=step.invocation_id,
                            step=step.step,
                            attempt=self.attempt,
                            index=first + n,
                            data=data,
                        )
                        for n, (kind, data) in enumerate(batch)
                    ]
                    key = f"{base}|{self.attempt}|{first}-{first + len(batch) - 1}"
                    await self._call("publish", PublishRequest(events=events), key)
                    self._sent += len(batch)
                    hints.notify(step.topic)
                if self._closing:
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("events of %s on topic %s not published: %s", step.step, step.topic, exc)
