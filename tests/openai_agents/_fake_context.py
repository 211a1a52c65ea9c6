"""An in-process stand-in for restate.ObjectContext, for fast storage tests of RestateSession."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, cast

import restate
from agents import TResponseInputItem


class FakeObjectContext:
    """Just enough of restate.ObjectContext: JSON state, ``run_typed``, and a log of reads and writes."""

    def __init__(self, key: str = "k") -> None:
        self._key = key
        self.state: dict[str, str] = {}
        self.writes: list[tuple[str, int]] = []  # (state key, items written)
        self.reads: list[tuple[str, int]] = []  # (state key, bytes read)
        self.runs: list[str] = []  # names of journaled steps

    @property
    def restate(self) -> restate.ObjectContext:
        """This fake typed as the ``restate.ObjectContext`` it stands in for (it has the part
        ``RestateSession`` uses)."""
        return cast(restate.ObjectContext, self)

    def key(self) -> str:
        return self._key

    async def get(self, name: str, type_hint: Any = None) -> Any:
        raw = self.state.get(name)
        self.reads.append((name, len(raw or "")))
        return json.loads(raw) if raw is not None else None

    def set(self, name: str, value: Any) -> None:
        self.state[name] = json.dumps(value)
        self.writes.append((name, len(value) if isinstance(value, list) else 1))

    def clear(self, name: str) -> None:
        self.state.pop(name, None)

    async def run_typed(
        self, name: str, action: Callable[..., Awaitable[Any]], options: Any = None, **kwargs: Any
    ) -> Any:
        self.runs.append(name)
        return await action(**kwargs)


def as_items(items: list[dict[str, Any]]) -> list[TResponseInputItem]:
    """Plain item dicts typed as the SDK's input items (a union of TypedDicts: dicts at run time)."""
    return cast(list[TResponseInputItem], items)


def as_dicts(items: list[TResponseInputItem]) -> list[dict[str, Any]]:
    """The SDK's input items as the plain dicts they are, to look into any key."""
    return cast(list[dict[str, Any]], items)
