"""``RestateMemoryService``: ADK's long-term memory in a Restate Virtual Object, per app and user.

ADK's memory outlives a session: ``add_session_to_memory`` (or ``callback_context.add_session_to_memory()``
in an ``after_agent_callback``) stores what a conversation said, and the ``load_memory`` /
``preload_memory`` tools search it from any later session of the same user. Sessions here live in
one chat object per conversation, so the memory cannot live in the session's object: it is a Virtual
Object of its own (``memory_object()``, registered as ``AdkMemory``), keyed ``<app>:<user>``.

- Writes are service calls from the running handler: journaled, so a replay or a retry after a crash
  does not store a session twice, and the memory object serialises concurrent writers per user.
  A session added again replaces its earlier entries (ADK's contract: a session may be added many
  times while it grows); ``add_events_to_memory`` appends, skipping event ids it already holds.
- ``search_memory`` is a call to the object's shared handler: it never waits behind a writer, and
  its answer is journaled, so a replay sees the memories the first run saw even if the memory
  changed since. The ranking is deterministic: the entries sharing the most words with the query,
  ties in the order they were stored (sessions in the order first added), at most ``max_results``.
- Only events with text are kept: ``{id, author, timestamp, content}``, the timestamp in UTC ISO 8601.

``load_memory`` is ADK's ``FunctionTool``; the adapter journals tools as one step by default, but a
step's body cannot make Restate calls. With this service the tool runs unjournaled instead
(``_tools``): its one durable action is the journaled search.
"""

from __future__ import annotations

import datetime
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

import restate
from google.adk.events.event import Event
from google.adk.memory.base_memory_service import BaseMemoryService, SearchMemoryResponse
from google.adk.memory.memory_entry import MemoryEntry
from google.adk.sessions.session import Session

from .._context import running_context
from ._scope import in_step
from ._serde import load_lenient

__all__ = ["MEMORY_OBJECT", "RestateMemoryService", "memory_key", "memory_object"]

MEMORY_OBJECT = "AdkMemory"
MAX_RESULTS = 10
_SESSIONS = "sessions"
_DELETED = "deleted"


def memory_key(app_name: str, user_id: str) -> str:
    """The memory object's key for one user of one app (ADK app names are identifiers: no ``:``)."""
    return f"{app_name}:{user_id}"


def _session_key(session_id: str) -> str:
    return f"session/{session_id}"


def _words(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"\w+", unicodedata.normalize("NFC", text))}


def _entry_text(entry: Mapping[str, Any]) -> str:
    parts = (entry.get("content") or {}).get("parts") or []
    return " ".join(str(part.get("text")) for part in parts if isinstance(part, dict) and part.get("text"))


def _entry(event: Event) -> dict[str, Any] | None:
    """What memory keeps of one event: its text content, author and time; ``None`` without text."""
    content = event.content
    if content is None or not content.parts or not any(part.text for part in content.parts):
        return None
    at = datetime.datetime.fromtimestamp(event.timestamp, datetime.UTC).isoformat()
    return {
        "id": event.id,
        "author": event.author,
        "timestamp": at,
        "content": content.model_dump(mode="json", by_alias=True, exclude_none=True),
    }


def memory_object(name: str = MEMORY_OBJECT, *, max_results: int = MAX_RESULTS) -> restate.VirtualObject:
    """The Virtual Object ``RestateMemoryService`` stores memories in; register it with your app.

    Handlers (keyed ``<app>:<user>``): ``add_session`` and ``add_events`` (exclusive), ``search``
    (shared), ``delete`` (exclusive). ``max_results`` caps a search's answer.
    """
    if max_results < 1:
        raise ValueError("max_results must be at least 1")
    memory = restate.VirtualObject(name)

    async def _deleted(ctx: restate.ObjectContext) -> set[str]:
        return set(await ctx.get(_DELETED, type_hint=list[str]) or [])

    async def _remember_session(ctx: restate.ObjectContext, session_id: str) -> None:
        sessions = list(await ctx.get(_SESSIONS, type_hint=list[str]) or [])
        if session_id not in sessions:
            sessions.append(session_id)
            ctx.set(_SESSIONS, sessions)

    @memory.handler()
    async def add_session(ctx: restate.ObjectContext, request: dict[str, Any]) -> int:
        """Replace the entries of ``request["session_id"]`` with ``request["entries"]``; how many are kept."""
        session_id, entries = str(request.get("session_id") or ""), list(request.get("entries") or [])
        if not session_id:
            raise restate.TerminalError("add_session needs a session_id", 400)
        deleted = await _deleted(ctx)
        kept = [entry for entry in entries if entry.get("id") not in deleted]
        await _remember_session(ctx, session_id)
        ctx.set(_session_key(session_id), kept)
        return len(kept)

    @memory.handler()
    async def add_events(ctx: restate.ObjectContext, request: dict[str, Any]) -> int:
        """Append ``request["entries"]`` to ``request["session_id"]``'s, skipping ids already held."""
        session_id = str(request.get("session_id") or "")
        deleted = await _deleted(ctx)
        stored = list(await ctx.get(_session_key(session_id), type_hint=list[dict[str, Any]]) or [])
        held = {entry.get("id") for entry in stored}
        added = [e for e in request.get("entries") or [] if e.get("id") not in held and e.get("id") not in deleted]
        await _remember_session(ctx, session_id)
        ctx.set(_session_key(session_id), stored + added)
        return len(added)

    @memory.handler(kind="shared")
    async def search(ctx: restate.ObjectSharedContext, query: str) -> list[dict[str, Any]]:
        """The stored entries sharing the most words with ``query`` (module docstring), best first."""
        asked = _words(query)
        scored: list[tuple[int, dict[str, Any]]] = []
        for session_id in await ctx.get(_SESSIONS, type_hint=list[str]) or []:
            for entry in await ctx.get(_session_key(session_id), type_hint=list[dict[str, Any]]) or []:
                matched = len(asked & _words(_entry_text(entry)))
                if matched:
                    scored.append((matched, entry))
        scored.sort(key=lambda pair: -pair[0])  # stable: ties stay in the order they were stored
        return [entry for _, entry in scored[:max_results]]

    @memory.handler()
    async def delete(ctx: restate.ObjectContext, memory_id: str) -> bool:
        """Forget the entry ``memory_id`` (an event id) and never store it again; whether it was held."""
        found = False
        for session_id in await ctx.get(_SESSIONS, type_hint=list[str]) or []:
            entries = list(await ctx.get(_session_key(session_id), type_hint=list[dict[str, Any]]) or [])
            kept = [entry for entry in entries if entry.get("id") != memory_id]
            if len(kept) != len(entries):
                found = True
                ctx.set(_session_key(session_id), kept)
        deleted = await _deleted(ctx)
        if memory_id not in deleted:
            ctx.set(_DELETED, sorted(deleted | {memory_id}))
        return found

    return memory


class RestateMemoryService(BaseMemoryService):
    """ADK's ``BaseMemoryService`` on the ``memory_object`` Virtual Object (module docstring).

    Stateless, like ``RestateSessionService``: one instance serves every handler, and each call goes
    through the running handler's context. ``object_name`` is the memory object's registered name.
    Outside a Restate handler (and inside a step journaled whole) it fails with ``RuntimeError``:
    there is no journal to record the call in.
    """

    def __init__(self, object_name: str = MEMORY_OBJECT) -> None:
        self.object_name = object_name

    def _ctx(self, action: str) -> restate.Context:
        ctx = running_context()
        if ctx is None or in_step() is not None:
            raise RuntimeError(
                f"RestateMemoryService.{action} runs outside a Restate handler's own code: its memory is a "
                "Virtual Object reached by a journaled call, so use it from handler, callback or tool code "
                "that is not journaled as one step (not_journaled(...))"
            )
        return ctx

    async def _call(self, action: str, app_name: str, user_id: str, handler: str, payload: Any) -> Any:
        ctx = self._ctx(action)
        key = memory_key(app_name, user_id)
        answer = await ctx.generic_call(self.object_name, handler, json.dumps(payload).encode(), key=key)
        return json.loads(answer) if answer else None

    async def add_session_to_memory(self, session: Session) -> None:
        """Store (or replace) what ``session`` said, as one journaled call."""
        entries = [entry for entry in map(_entry, session.events) if entry is not None]
        request = {"session_id": session.id, "entries": entries}
        await self._call("add_session_to_memory", session.app_name, session.user_id, "add_session", request)

    async def add_events_to_memory(
        self,
        *,
        app_name: str,
        user_id: str,
        events: Sequence[Event],
        session_id: str | None = None,
        custom_metadata: Mapping[str, object] | None = None,
    ) -> None:
        """Append ``events`` (a delta) to the session's memory; ``custom_metadata`` is not used."""
        entries = [entry for entry in map(_entry, events) if entry is not None]
        request = {"session_id": session_id or "", "entries": entries}
        await self._call("add_events_to_memory", app_name, user_id, "add_events", request)

    async def search_memory(self, *, app_name: str, user_id: str, query: str) -> SearchMemoryResponse:
        """The user's memories that best match ``query``; the answer is journaled (a replay sees it again)."""
        found = await self._call("search_memory", app_name, user_id, "search", query)
        memories = [load_lenient(MemoryEntry, entry, "memory entry") for entry in found or []]
        return SearchMemoryResponse(memories=memories)

    async def delete_memory(self, *, app_name: str, user_id: str, memory_id: str | None = None) -> None:
        """Forget one memory (``MemoryEntry.id``) for good: a later ``add_session_to_memory`` skips it."""
        if memory_id:
            await self._call("delete_memory", app_name, user_id, "delete", memory_id)
