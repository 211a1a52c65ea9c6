"""``RestateSession``: Agents SDK session memory in Virtual Object state."""

from __future__ import annotations

from typing import Any, Literal

import restate
from agents.items import TResponseInputItem
from agents.memory.session import SessionABC
from agents.memory.session_settings import SessionSettings
from pydantic_core import to_jsonable_python

from ._compaction import CompactedHistory, CompactionPolicy

DEFAULT_STATE_KEY = "items"
TAIL_SIZE = 32

Layout = Literal["list", "append", "compacted"]
AnyObjectContext = restate.ObjectContext | restate.ObjectSharedContext


class _ListLayout:
    """The whole history as one JSON list under ``key``: readable with ``ctx.get("items")``,
    but every write rewrites the full list, so a turn's cost grows with the conversation."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def load(self, ctx: AnyObjectContext) -> list[Any]:
        return list(await ctx.get(self.key, type_hint=list) or [])

    def persist(self, ctx: restate.ObjectContext, items: list[Any], first_changed: int) -> None:
        ctx.set(self.key, items)

    async def clear(self, ctx: restate.ObjectContext) -> None:
        ctx.clear(self.key)


class _AppendLayout:
    """Append-optimised: a large ``<key>/archive`` list rewritten rarely, plus a small
    ``<key>/tail`` list that takes every new item.

    A turn reads two keys and rewrites only the tail; when the tail exceeds ``TAIL_SIZE`` items it
    is folded into the archive (one larger write every ~TAIL_SIZE/2 turns). Restate journals every
    state read, so few keys matter as much as small writes. Read it with
    ``RestateSession.history(ctx, layout="append")``.
    """

    def __init__(self, key: str) -> None:
        self.archive_key = f"{key}/archive"
        self.tail_key = f"{key}/tail"
        self._archived = 0

    async def load(self, ctx: AnyObjectContext) -> list[Any]:
        archive = list(await ctx.get(self.archive_key, type_hint=list) or [])
        tail = list(await ctx.get(self.tail_key, type_hint=list) or [])
        self._archived = len(archive)
        return archive + tail

    def persist(self, ctx: restate.ObjectContext, items: list[Any], first_changed: int) -> None:
        if first_changed < self._archived or len(items) - self._archived > TAIL_SIZE:
            self._archived = len(items)
            ctx.set(self.archive_key, items)
        ctx.set(self.tail_key, items[self._archived :])

    async def clear(self, ctx: restate.ObjectContext) -> None:
        ctx.clear(self.archive_key)
        ctx.clear(self.tail_key)
        self._archived = 0


def _layout(layout: Layout, key: str) -> _ListLayout | _AppendLayout:
    if layout == "list":
        return _ListLayout(key)
    if layout == "append":
        return _AppendLayout(key)
    if layout == "compacted":
        raise ValueError("the 'compacted' layout needs a policy: RestateSession.create(..., compaction=...)")
    raise ValueError(f"unknown session layout {layout!r}; use 'list', 'append' or 'compacted'")


class _FullHistory:
    """The whole history in memory, stored by a list or append layout: the model sees every item."""

    def __init__(self, ctx: restate.ObjectContext, storage: _ListLayout | _AppendLayout, items: list[Any]) -> None:
        self._ctx = ctx
        self._storage = storage
        self._items = items

    async def get_items(self, limit: int | None) -> list[Any]:
        if limit is None:
            return list(self._items)
        return list(self._items[-limit:]) if limit > 0 else []

    async def add_items(self, items: list[Any]) -> None:
        first_new = len(self._items)
        self._items.extend(items)
        self._storage.persist(self._ctx, self._items, first_new)

    async def pop_item(self) -> Any | None:
        if not self._items:
            return None
        item = self._items.pop()
        self._storage.persist(self._ctx, self._items, len(self._items))
        return item

    async def clear(self) -> None:
        await self._storage.clear(self._ctx)
        self._items = []


class RestateSession(SessionABC):
    """Conversation history kept in the state of the Virtual Object that runs the agent.

    Restate serialises exclusive handlers per object key, so concurrent messages to one session
    are queued and none is lost. Every item the SDK adds (the user turn, model outputs, tool
    results) is stored. State writes are journaled, so a replayed turn writes the same values.

    Layouts:
    - ``"list"`` (default): one JSON list under ``"items"``, so a shared handler can return the
      history with ``await ctx.get("items")`` as in the Restate docs. Each write rewrites the list:
      fine for typical chats, but a turn's cost grows with the history (see the benchmark).
    - ``"append"``: a rarely rewritten archive plus a small tail; a turn writes only the tail, so
      long conversations stay cheap. Read the history with
      ``await RestateSession.history(ctx, layout="append")``.
    - ``"compacted"``, chosen by passing ``compaction=Compaction(...)`` or ``DropOldest(...)``: the
      model sees a bounded window (plus a summary of older turns, for ``Compaction``), and a turn
      reads only that window; older items move to archive keys a turn never reads. Read every item
      with ``await RestateSession.history(ctx, layout="compacted")``.
    """

    session_settings: SessionSettings | None = None

    def __init__(self, session_id: str, store: _FullHistory | CompactedHistory) -> None:
        self.session_id = session_id
        self._store = store

    @staticmethod
    def _state_key(ctx: AnyObjectContext, session_id: str, state_key: str | None) -> str:
        if state_key is not None:
            return state_key
        return DEFAULT_STATE_KEY if session_id == ctx.key() else f"{DEFAULT_STATE_KEY}:{session_id}"

    @classmethod
    async def create(
        cls,
        *,
        session_id: str,
        ctx: restate.ObjectContext,
        layout: Layout | None = None,
        compaction: CompactionPolicy | None = None,
        state_key: str | None = None,
    ) -> RestateSession:
        """Load the session ``session_id`` from the object's state (read once per turn).

        The state key is ``"items"`` when ``session_id`` is the object key (the usual case);
        other session ids in the same object get ``"items:<session_id>"``. ``compaction`` bounds what
        the model sees and what a turn reads (see :class:`Compaction`, :class:`DropOldest`); it implies
        the ``"compacted"`` layout.
        """
        if not hasattr(ctx, "set") or not hasattr(ctx, "key"):
            raise TypeError(
                "RestateSession needs the context of an exclusive Virtual Object handler "
                "(restate.ObjectContext): session state is written on every turn"
            )
        key = cls._state_key(ctx, session_id, state_key)
        if compaction is not None:
            if layout not in (None, "compacted"):
                raise ValueError(f"compaction keeps its own 'compacted' layout; drop layout={layout!r}")
            return cls(session_id, await CompactedHistory.load(ctx, key, compaction))
        storage = _layout(layout or "list", key)
        return cls(session_id, _FullHistory(ctx, storage, await storage.load(ctx)))

    @classmethod
    async def history(
        cls,
        ctx: AnyObjectContext,
        *,
        session_id: str | None = None,
        layout: Layout = "list",
        state_key: str | None = None,
    ) -> list[TResponseInputItem]:
        """Every stored item, from any handler of the object (shared handlers included).

        For the ``"compacted"`` layout this is every item ever added, archived ones included, without
        the summary: it reads all archive chunks, which a turn never does.
        """
        key = cls._state_key(ctx, session_id or ctx.key(), state_key)
        if layout == "compacted":
            return await CompactedHistory.history(ctx, key)
        return await _layout(layout, key).load(ctx)

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """What the model is sent as history (with compaction: the summary and the live window)."""
        return await self._store.get_items(limit)

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        if not items:
            return
        await self._store.add_items(to_jsonable_python(items, by_alias=True))

    async def pop_item(self) -> TResponseInputItem | None:
        return await self._store.pop_item()

    async def clear_session(self) -> None:
        await self._store.clear()
