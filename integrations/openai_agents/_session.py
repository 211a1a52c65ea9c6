"""``RestateSession``: Agents SDK session memory in Virtual Object state."""

from __future__ import annotations

from typing import Any, Literal

import restate
from agents.items import TResponseInputItem
from agents.memory.session import SessionABC
from pydantic_core import to_jsonable_python

DEFAULT_STATE_KEY = "items"
TAIL_SIZE = 32

Layout = Literal["list", "append"]
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
    raise ValueError(f"unknown session layout {layout!r}; use 'list' or 'append'")


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
    """

    session_settings = None

    def __init__(
        self, session_id: str, ctx: restate.ObjectContext, items: list[Any], storage: _ListLayout | _AppendLayout
    ) -> None:
        self.session_id = session_id
        self._ctx = ctx
        self._items = items
        self._storage = storage

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
        layout: Layout = "list",
        state_key: str | None = None,
    ) -> "RestateSession":
        """Load the session ``session_id`` from the object's state (read once per turn).

        The state key is ``"items"`` when ``session_id`` is the object key (the usual case);
        other session ids in the same object get ``"items:<session_id>"``.
        """
        if not hasattr(ctx, "set") or not hasattr(ctx, "key"):
            raise TypeError(
                "RestateSession needs the context of an exclusive Virtual Object handler "
                "(restate.ObjectContext): session state is written on every turn"
            )
        storage = _layout(layout, cls._state_key(ctx, session_id, state_key))
        return cls(session_id, ctx, await storage.load(ctx), storage)

    @classmethod
    async def history(
        cls,
        ctx: AnyObjectContext,
        *,
        session_id: str | None = None,
        layout: Layout = "list",
        state_key: str | None = None,
    ) -> list[TResponseInputItem]:
        """Every stored item, from any handler of the object (shared handlers included)."""
        key = cls._state_key(ctx, session_id or ctx.key(), state_key)
        return await _layout(layout, key).load(ctx)

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        if limit is None:
            return list(self._items)
        return list(self._items[-limit:]) if limit > 0 else []

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        if not items:
            return
        first_new = len(self._items)
        self._items.extend(to_jsonable_python(items, by_alias=True))
        self._storage.persist(self._ctx, self._items, first_new)

    async def pop_item(self) -> TResponseInputItem | None:
        if not self._items:
            return None
        item = self._items.pop()
        self._storage.persist(self._ctx, self._items, len(self._items))
        return item

    async def clear_session(self) -> None:
        await self._storage.clear(self._ctx)
        self._items = []
