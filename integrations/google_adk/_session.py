"""``RestateSessionService``: ADK sessions in a Restate Virtual Object's state.

Use it from a Virtual Object handler: the object's key names the conversation, and Restate runs
one handler per key at a time, so concurrent messages to one session are serialised by the object
(no lost update, no stale-session error). Each event ADK appends is written once under a key of its
own, ``adk:event:<session>:<n>``, as ADK appends it (not buffered until the end of the run, never
rewritten); the session's state and event count live under ``adk:session:<session>``. Every write
is a state command in the invocation's journal, so a crash mid-run loses nothing: the retry replays
the same writes (ADK's ids and timestamps are made deterministic by ``_platform``).

State: ``temp:`` keys are dropped, as in every ADK session service; ``app:`` and ``user:`` keys are
kept in the session's own state (one object key, one scope).

Compaction: ADK's own (``App(events_compaction_config=EventsCompactionConfig(...))``) appends a
compaction event through this service like any other; under ``DurablePlugin`` its summarizer's
model call is a journaled step like the agent's.
"""

from __future__ import annotations

from typing import Any

import restate
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.events.event import Event
from google.adk.sessions.base_session_service import BaseSessionService, GetSessionConfig, ListSessionsResponse
from google.adk.sessions.session import Session
from google.adk.sessions.state import State
from pydantic_core import to_jsonable_python

from .._context import running_context
from ._platform import use_restate_platform
from ._scope import invocation_scope
from ._serde import load_lenient

__all__ = ["EVENT_PREFIX", "SESSION_PREFIX", "RestateSessionService", "event_key"]

SESSION_PREFIX = "adk:session:"
EVENT_PREFIX = "adk:event:"


def event_key(session_id: str, index: int) -> str:
    return f"{EVENT_PREFIX}{session_id}:{index:06d}"


def _stored_state(state: dict[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in state.items() if not key.startswith(State.TEMP_PREFIX)}
    return dict(to_jsonable_python(kept, fallback=str))


def _counts(ctx: restate.Context) -> dict[str, int]:
    """Events stored per session, as this invocation knows them (saves a state read per event)."""
    scope = invocation_scope(ctx)
    return scope.event_counts if scope is not None else {}


class RestateSessionService(BaseSessionService):
    """ADK's ``BaseSessionService`` on the state of the running Virtual Object (module docstring).

    Stateless: one instance may be shared by every handler; each call uses the Restate context of
    the handler that runs it.
    """

    def _ctx(self) -> restate.ObjectContext:
        ctx = running_context()
        if ctx is None:
            raise RuntimeError(
                "RestateSessionService is used outside a Restate handler: its sessions live in a Virtual "
                "Object's state, so run the ADK Runner inside a restate.VirtualObject handler"
            )
        return ctx  # type: ignore[return-value]

    async def _meta(self, ctx: restate.ObjectContext, session_id: str) -> dict[str, Any] | None:
        meta = await ctx.get(SESSION_PREFIX + session_id, type_hint=dict[str, Any])
        return meta if isinstance(meta, dict) else None

    async def create_session(
        self,
        *,
        app_name: str,
        user_id: str,
        state: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        ctx = self._ctx()
        await use_restate_platform(ctx)
        session_id = (session_id or "").strip() or str(ctx.uuid())
        if await self._meta(ctx, session_id) is not None:
            raise AlreadyExistsError(f"Session with id {session_id} already exists.")
        session = Session(app_name=app_name, user_id=user_id, id=session_id, state=_stored_state(state or {}))
        ctx.set(SESSION_PREFIX + session_id, self._meta_of(session, events=0))
        _counts(ctx)[session_id] = 0
        return session

    async def get_session(
        self,
        *,
        app_name: str,
        user_id: str,
        session_id: str,
        config: GetSessionConfig | None = None,
    ) -> Session | None:
        ctx = self._ctx()
        await use_restate_platform(ctx)
        meta = await self._meta(ctx, session_id)
        if meta is None:
            return None
        count = int(meta.get("events", 0))
        _counts(ctx)[session_id] = count
        first = 0
        if config is not None and config.num_recent_events is not None:
            first = max(0, count - config.num_recent_events)
        events: list[Event] = []
        for index in range(first, count):
            data = await ctx.get(event_key(session_id, index), type_hint=dict[str, Any])
            if data is not None:
                events.append(load_lenient(Event, data, f"session {session_id!r} event {index}"))
        if config is not None and config.after_timestamp is not None:
            after = config.after_timestamp
            events = [event for event in events if event.timestamp >= after]
        return Session(
            app_name=str(meta.get("app_name", app_name)),
            user_id=str(meta.get("user_id", user_id)),
            id=session_id,
            state=dict(meta.get("state") or {}),
            events=events,
            last_update_time=float(meta.get("last_update_time", 0.0)),
        )

    async def list_sessions(self, *, app_name: str, user_id: str | None = None) -> ListSessionsResponse:
        ctx = self._ctx()
        sessions = []
        for key in sorted(await ctx.state_keys()):
            if not key.startswith(SESSION_PREFIX):
                continue
            meta = await self._meta(ctx, key.removeprefix(SESSION_PREFIX))
            if meta is None or meta.get("app_name") != app_name:
                continue
            if user_id is not None and meta.get("user_id") != user_id:
                continue
            sessions.append(
                Session(
                    app_name=app_name,
                    user_id=str(meta.get("user_id")),
                    id=key.removeprefix(SESSION_PREFIX),
                    state=dict(meta.get("state") or {}),
                    last_update_time=float(meta.get("last_update_time", 0.0)),
                )
            )
        sessions.sort(key=lambda session: session.last_update_time)
        return ListSessionsResponse(sessions=sessions)

    async def delete_session(self, *, app_name: str, user_id: str, session_id: str) -> None:
        ctx = self._ctx()
        meta = await self._meta(ctx, session_id)
        if meta is None:
            return
        for index in range(int(meta.get("events", 0))):
            ctx.clear(event_key(session_id, index))
        ctx.clear(SESSION_PREFIX + session_id)
        _counts(ctx).pop(session_id, None)

    async def append_event(self, session: Session, event: Event) -> Event:
        """Append ``event`` in memory (as every ADK service does) and write it under its own key."""
        if event.partial:
            return event
        event = await super().append_event(session, event)
        ctx = self._ctx()
        counts = _counts(ctx)
        count = counts.get(session.id)
        if count is None:  # a session this invocation did not load: ask the object
            meta = await self._meta(ctx, session.id)
            count = int(meta.get("events", 0)) if meta is not None else 0
        ctx.set(event_key(session.id, count), event.model_dump(mode="json", by_alias=True, exclude_none=True))
        session.last_update_time = event.timestamp
        ctx.set(SESSION_PREFIX + session.id, self._meta_of(session, events=count + 1))
        counts[session.id] = count + 1
        return event

    @staticmethod
    def _meta_of(session: Session, *, events: int) -> dict[str, Any]:
        return {
            "app_name": session.app_name,
            "user_id": session.user_id,
            "state": _stored_state(session.state),
            "last_update_time": session.last_update_time,
            "events": events,
        }
