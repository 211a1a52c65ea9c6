"""The topic: a Virtual Object per topic key that stores events durably in its Restate state.

State layout (lazy state, so an invocation reads only what it needs):

- ``meta``: ``{"first": F, "last": L}``, the retained sequence numbers ``F..L`` (``L = 0``: none yet);
- ``seg/<n>``: the events with ``seq`` in ``n*SEGMENT+1 .. (n+1)*SEGMENT``. Appending rewrites one
  small segment instead of the whole history, a page read touches a few segments;
- ``attempts``: the newest attempt number per streamed step (the last ``ATTEMPTS_KEPT`` steps).

``publish`` and ``begin_attempt`` are exclusive (they assign sequence numbers), ``pull`` is shared:
readers never wait behind writers. Events older than the newest ``retention`` are deleted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from restate import ObjectContext, ObjectSharedContext

from ._events import (
    AgentEvent,
    AttemptInfo,
    AttemptStart,
    EventPage,
    PublishRequest,
    PublishResult,
    PullRequest,
)
from ._hints import hints

__all__ = ["DEFAULT_RETENTION", "EVENTS_OBJECT", "agent_events", "events_object"]

EVENTS_OBJECT = "AgentEvents"
DEFAULT_RETENTION = 1000
SEGMENT = 50
ATTEMPTS_KEPT = 256
PUBLISH_DEDUP = timedelta(hours=1)
"""How long Restate remembers a publish idempotency key: far longer than any retry of one call."""


def _segment(seq: int) -> int:
    return (seq - 1) // SEGMENT


class _Topic:
    """The state of one topic inside one handler invocation."""

    def __init__(self, ctx: ObjectContext | ObjectSharedContext) -> None:
        self.ctx = ctx
        self.first = 1
        self.last = 0
        self._segments: dict[int, list[dict[str, Any]]] = {}

    async def load_meta(self) -> None:
        meta = await self.ctx.get("meta", type_hint=dict) or {}
        self.first = int(meta.get("first", 1))
        self.last = int(meta.get("last", 0))

    async def segment(self, number: int) -> list[dict[str, Any]]:
        if number not in self._segments:
            self._segments[number] = list(await self.ctx.get(f"seg/{number}", type_hint=list) or [])
        return self._segments[number]

    async def read(self, start: int, end: int) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        for number in range(_segment(start), _segment(end) + 1):
            events.extend(AgentEvent.model_validate(e) for e in await self.segment(number) if start <= e["seq"] <= end)
        return events

    async def append(self, events: list[AgentEvent], retention: int) -> None:
        """Number ``events``, store them, and delete what falls out of the retention window."""
        assert isinstance(self.ctx, ObjectContext)
        touched: set[int] = set()
        for event in events:
            self.last += 1
            event.seq = self.last
            number = _segment(event.seq)
            if number not in self._segments and event.seq % SEGMENT != 1:
                await self.segment(number)  # a partly filled segment: keep what it holds
            self._segments.setdefault(number, []).append(event.model_dump(mode="json"))
            touched.add(number)
        first = max(self.first, self.last - retention + 1)
        for number in range(_segment(self.first), _segment(first)):
            self.ctx.clear(f"seg/{number}")  # wholly expired
            self._segments.pop(number, None)
            touched.discard(number)
        if first > self.first and _segment(first) not in touched:
            await self.segment(_segment(first))
            touched.add(_segment(first))
        for number in sorted(touched):
            kept = [e for e in self._segments[number] if e["seq"] >= first]
            self._segments[number] = kept
            self.ctx.set(f"seg/{number}", kept)
        self.first = first
        self.ctx.set("meta", {"first": self.first, "last": self.last})


def events_object(name: str = EVENTS_OBJECT, *, retention: int = DEFAULT_RETENTION) -> restate.VirtualObject:
    """A topic Virtual Object called ``name`` that keeps the newest ``retention`` events per topic.

    Register it with the app that publishes to it (the publisher reaches it through the ingress
    under ``name``). One object serves any number of topics: the topic is its key.
    """
    if retention < 1:
        raise ValueError("retention must keep at least one event")
    topics = restate.VirtualObject(name, state_preload=False)

    @topics.handler(idempotency_retention=PUBLISH_DEDUP)
    async def publish(ctx: ObjectContext, request: PublishRequest) -> PublishResult:
        """Append events; those of an attempt that a newer attempt of the same step replaced are dropped."""
        streamed = [e for e in request.events if e.attempt > 0]
        newest: dict[str, int] = dict(await ctx.get("attempts", type_hint=dict) or {}) if streamed else {}
        kept = [e for e in request.events if e.attempt == 0 or e.attempt >= newest.get(_attempt_key(e), 0)]
        topic = _Topic(ctx)
        await topic.load_meta()
        if kept:
            await topic.append(kept, retention)
            hints.notify(ctx.key())
        return PublishResult(stored=len(kept), dropped=len(request.events) - len(kept), last=topic.last)

    @topics.handler(idempotency_retention=PUBLISH_DEDUP)
    async def begin_attempt(ctx: ObjectContext, start: AttemptStart) -> AttemptInfo:
        """Number a new attempt of a streamed step; a retry first appends a ``reset`` for that step."""
        newest = dict(await ctx.get("attempts", type_hint=dict) or {})
        key = f"{start.invocation_id} {start.step}"
        attempt = int(newest.pop(key, 0)) + 1
        newest[key] = attempt  # re-inserted: the dict keeps the most recently begun steps last
        while len(newest) > ATTEMPTS_KEPT:
            newest.pop(next(iter(newest)))
        ctx.set("attempts", newest)
        if attempt > 1:
            topic = _Topic(ctx)
            await topic.load_meta()
            reset = AgentEvent(kind="reset", invocation_id=start.invocation_id, step=start.step, attempt=attempt)
            await topic.append([reset], retention)
            hints.notify(ctx.key())
        return AttemptInfo(attempt=attempt)

    @topics.handler(kind="shared")
    async def pull(ctx: ObjectSharedContext, request: PullRequest) -> EventPage:
        """The retained events after ``request.after`` (a page of at most ``request.limit``)."""
        topic = _Topic(ctx)
        await topic.load_meta()
        start = max(request.after + 1, topic.first)
        end = min(topic.last, start + request.limit - 1)
        events = await topic.read(start, end) if start <= end else []
        return EventPage(events=events, first=topic.first, last=topic.last, gap=request.after + 1 < topic.first)

    return topics


def _attempt_key(event: AgentEvent) -> str:
    return f"{event.invocation_id} {event.step}"


agent_events = events_object()
"""The default topic object, ``AgentEvents``, keeping the newest 1000 events per topic."""
