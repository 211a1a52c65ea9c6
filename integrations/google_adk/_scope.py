"""What the ADK adapter remembers about one Restate invocation while its agents run.

Kept in the invocation's own extension data, so several invocations served by one process never see
each other's state, and a new attempt (after a suspension or a crash) starts from nothing and
rebuilds it while it replays.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import restate
from restate import server_context as _server_context

from .._context import bound, context_stand_in, invocation_data, running_context
from .._tool_turns import ToolTurn, retire_when_superseded
from ..retry import StepRetry
from ._branches import branch_baton

__all__ = ["InvocationScope", "in_step", "inside_step", "invocation_scope", "restate_context"]

_KEY = "durable-agents.google-adk"

_IN_STEP: ContextVar[str | None] = ContextVar("durable_agents_adk_in_step", default=None)


def in_step() -> str | None:
    """The name of the journaled step whose body is running, if any."""
    return _IN_STEP.get()


class _NoContextInStep:
    """What ``current_context()`` returns inside a tool journaled as one step: any use fails loudly,
    since a durable action inside a step would not be replayed with it."""

    def __init__(self, step: str) -> None:
        self._step = step

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(_server_context.ServerInvocationContext, name):
            raise AttributeError(name)
        raise restate.TerminalError(
            f"{self._step!r} is journaled as one step, so it cannot use the Restate context (ctx.{name}) "
            "inside: wrap the tool with not_journaled(...) so that its own ctx.run steps are journaled",
            status_code=500,
        )


@asynccontextmanager
async def inside_step(name: str) -> AsyncIterator[None]:
    """Mark the body of a step journaled whole: the Restate context looked up in it refuses to act."""
    with bound(_IN_STEP, name), context_stand_in(_NoContextInStep(name)):
        yield


def restate_context() -> restate.Context:
    """The Restate context of the running handler, for tools and callbacks that do their own steps.

    Raises ``RuntimeError`` outside a Restate handler.
    """
    ctx = running_context()
    if ctx is None:
        raise RuntimeError("no Restate handler is running: run the ADK Runner inside a Restate handler")
    return ctx


@dataclass
class InvocationScope:
    """Per-invocation state: the tool-call batons by function call id."""

    turns: dict[str, ToolTurn] = field(default_factory=dict)
    plugin_active: bool = False
    """A ``DurablePlugin`` runs this invocation's agents: it moves tool calls through their batons."""
    held: dict[str, AbstractAsyncContextManager[None]] = field(default_factory=dict)
    """The batons tool calls hold between ``before_tool_callback`` and their end, by call id."""
    retry: StepRetry | None = None
    tool_retry: StepRetry | None = None
    max_tokens: int | None = None
    """The running ``DurablePlugin``'s settings, for the models it made durable (shared agents serve
    several apps: the settings are the invocation's, not the model's)."""
    event_counts: dict[str, int] = field(default_factory=dict)
    """Events each session holds in the object's state, once this invocation read or wrote it."""
    clock: Any = None
    """The invocation's deterministic ADK clock (``_platform``), once its start is journaled."""
    spans: dict[str, str] = field(default_factory=dict)
    """The tracing spans this attempt started and has not ended, by key (``_tracing``)."""
    branch_batons: dict[tuple[str, int], ToolTurn] = field(default_factory=dict)
    """The running ``ParallelAgent`` runs' batons, by ADK invocation id and parallel agent (``_branches``)."""

    def branch_baton(self, key: tuple[str, int], order: Iterable[str]) -> ToolTurn:
        """The baton of the parallel agent run ``key`` names; a new one once the previous run ended."""
        baton = self.branch_batons.get(key)
        if baton is None or baton.complete:
            baton = self.branch_batons[key] = branch_baton(order)
        return baton

    def new_turn(self, call_ids: Iterable[str]) -> None:
        """Register one model response's function calls, in the model's order."""
        listed = [call_id for call_id in call_ids if call_id]
        turn = ToolTurn(listed, strict=False)
        retire_when_superseded(turn)
        for call_id in listed:
            self.turns[call_id] = turn

    def turn_for(self, call_id: str) -> ToolTurn:
        """The baton of ``call_id``; a call no journaled response listed (a resumed confirmation)
        gets a strict one shared by all such calls: they run one at a time, in arrival order."""
        turn = self.turns.get(call_id)
        if turn is None:
            turn = self.turns.setdefault("", ToolTurn((), strict=True))
        return turn


def invocation_scope(ctx: restate.Context) -> InvocationScope | None:
    """The scope of the invocation ``ctx`` belongs to, created on first use; ``None`` for a context
    that is not the Restate SDK's own (a test double)."""
    return invocation_data(ctx, _KEY, InvocationScope)
