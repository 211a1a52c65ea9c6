"""ADK's ids, clock and random numbers made replay-safe through its own platform hooks.

ADK draws every event id, function-call id and invocation id from ``google.adk.platform.uuid``, every
timestamp from ``google.adk.platform.time`` and its random choices from ``google.adk.platform._random``;
each is a context variable meant for durable-execution engines. Inside a Restate handler they are
pointed at the invocation's deterministic sources: ``ctx.uuid()`` and ``ctx.random()`` (seeded by
the invocation id, so a replay draws the same values in the same order) and a clock that starts at
a journaled instant (one ``"ADK clock"`` step per invocation) and advances one millisecond per
reading. The events a replay rebuilds are then equal to the ones first written, ids and timestamps
included, so the session's state writes match the journal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import restate
from google.adk.platform import _random as adk_random, time as adk_time, uuid as adk_uuid

from ._scope import invocation_scope

__all__ = ["use_restate_platform"]

_TICK = 0.001


@dataclass
class _Clock:
    start: float
    readings: int = 0

    def now(self) -> float:
        self.readings += 1
        return self.start + self.readings * _TICK


async def use_restate_platform(ctx: restate.Context) -> None:
    """Point ADK's id, time and random providers at ``ctx`` for the running task and the tasks it
    starts from now on. The first call of an invocation journals the clock's start."""
    scope = invocation_scope(ctx)
    if scope is None:  # not the Restate SDK's context (a test double): leave ADK's defaults
        return
    if scope.clock is None:
        scope.clock = _Clock(0.0)  # claimed before the await, so concurrent first calls journal once
        start = await ctx.run_typed("ADK clock", time.time, restate.RunOptions(type_hint=float))
        scope.clock.start = start
    clock = scope.clock
    assert isinstance(clock, _Clock)
    adk_uuid.set_id_provider(lambda: str(ctx.uuid()))
    adk_time.set_time_provider(clock.now)
    adk_random.set_random_provider(ctx.random)
