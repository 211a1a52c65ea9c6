"""``RestateSession``: Agents SDK session memory in Virtual Object state."""

from __future__ import annotations

from typing import Any

import restate
from agents.items import TResponseInputItem
from agents.memory.session import SessionABC
from pydantic_core import to_jsonable_python

DEFAULT_STATE_KEY = "items"


class RestateSession(SessionABC):
    """Conversation history kept in the state of the Virtual Object that runs the agent.

    Restate serialises exclusive handlers per object key, so concurrent messages to one session
    are queued and none is lost. Every item the SDK adds (the user turn, model outputs, tool
    results) is stored under the state key ``"items"`` as a JSON list, so a shared handler can
    return the history with ``await ctx.get("items")``.

    The history is read from state once, in :meth:`create`; later reads in the same turn are
    served from memory. State writes are journaled, so a replayed turn writes the same values.
    """

    session_settings = None

    def __init__(self, session_id: str, ctx: restate.ObjectContext, items: list[Any], state_key: str) -> None:
        self.session_id = session_id
        self._ctx = ctx
        self._items = items
        self._state_key = state_key

    @classmethod
    async def create(
        cls, *, session_id: str, ctx: restate.ObjectContext, state_key: str | None = None
    ) -> "RestateSession":
        """Load the session of ``session_id`` from the object's state.

        The state key is ``"items"`` when ``session_id`` is the object key (the usual case);
        other session ids in the same object get ``"items:<session_id>"``.
        """
        if not hasattr(ctx, "set") or not hasattr(ctx, "key"):
            raise TypeError(
                "RestateSession needs the context of an exclusive Virtual Object handler "
                "(restate.ObjectContext): session state is written on every turn"
            )
        if state_key is None:
            state_key = DEFAULT_STATE_KEY if session_id == ctx.key() else f"{DEFAULT_STATE_KEY}:{session_id}"
        items = await ctx.get(state_key, type_hint=list) or []
        return cls(session_id, ctx, list(items), state_key)

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        if limit is None:
            return list(self._items)
        return list(self._items[-limit:]) if limit > 0 else []

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        if not items:
            return
        self._items.extend(to_jsonable_python(items, by_alias=True, exclude_none=True))
        self._ctx.set(self._state_key, self._items)

    async def pop_item(self) -> TResponseInputItem | None:
        if not self._items:
            return None
        item = self._items.pop()
        self._ctx.set(self._state_key, self._items)
        return item

    async def clear_session(self) -> None:
        self._items = []
        self._ctx.clear(self._state_key)
