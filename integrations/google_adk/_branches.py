"""A ``ParallelAgent``'s branches run one at a time, in sub-agent order, under ``DurablePlugin``.

ADK runs each branch of a ``ParallelAgent`` as a task of its own and appends their events to the
session in the order they arrive. Every append is a state write in the journal, as is every model
and tool step: concurrent branches put them there in the order their models and tools answered,
and a replay, where every journaled step completes at once, issues them in another order. Restate
then stops the invocation with a journal mismatch (found by running a ``ParallelAgent`` with tools on
an always-replay server). Branches that run one at a time, in the order of ``sub_agents``, issue
the same actions in the same order on every attempt.

The price is the branches' concurrency inside one invocation; fan out to Restate services (a
service call per branch, from a tool) for branches that must run side by side.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

__all__ = ["BranchGate"]


class BranchGate:
    """One run of a ``ParallelAgent``: each branch waits until the branches before it have ended."""

    def __init__(self, order: Iterable[str]) -> None:
        self.order = list(order)
        self._ended = {name: asyncio.Event() for name in self.order}

    @property
    def complete(self) -> bool:
        """Every branch of this run has ended: the parallel agent's next run needs a new gate."""
        return all(ended.is_set() for ended in self._ended.values())

    def runs(self, name: str) -> bool:
        return name in self._ended

    async def enter(self, name: str) -> None:
        """Wait for the branches listed before ``name`` to end."""
        for earlier in self.order[: self.order.index(name)]:
            await self._ended[earlier].wait()

    def leave(self, name: str) -> None:
        ended = self._ended.get(name)
        if ended is not None:
            ended.set()
