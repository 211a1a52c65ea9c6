"""What the adapter remembers about one Restate invocation while its agent runs.

Kept in the invocation's own extension data (``restate.server_context.set_extension_data``), so
several invocations served by one process never see each other's state, and a new attempt (after a
suspension or a crash) starts from nothing and rebuilds it while it replays.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import restate
from restate import server_context as _server_context

from .._context import bound, context_stand_in, invocation_data
from ._turns import ToolTurn, retire_when_superseded

if TYPE_CHECKING:
    from ._hooks import PendingToolHooks

__all__ = ["DURABLE_TOOL_ATTR", "InvocationScope", "in_step", "inside_step", "invocation_scope"]

_KEY = "durable-agents.openai-agents"

DURABLE_TOOL_ATTR = "_durable_agents_kind"
"""Set on a FunctionTool once its ``on_invoke_tool`` is wrapped (``_tool_journal``): its kind."""

_IN_STEP: ContextVar[str | None] = ContextVar("durable_agents_in_step", default=None)
"""Set inside the body of a step the adapter journals whole (a plain tool, a hook): nothing in it may
journal again, and nested runs or models in it run plain."""


_REFUSED: ContextVar[list[restate.TerminalError] | None] = ContextVar("durable_agents_refused", default=None)
"""The first use of the Restate context refused in the running step, so it fails even when the body
(or the SDK's ``failure_error_function``, which would hand it to the model) caught the error."""


def in_step() -> str | None:
    """The name of the journaled step whose body is running, if any."""
    return _IN_STEP.get()


class _NoContextInStep:
    """What ``current_context()`` returns inside a step journaled whole: any use fails loudly, since
    a durable action inside a step would not be replayed with it."""

    def __init__(self, step: str) -> None:
        self._step = step

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or not hasattr(_server_context.ServerInvocationContext, name):
            raise AttributeError(name)  # not the context's API: getattr(ctx, name, default) still works
        error = restate.TerminalError(
            f"{self._step!r} is journaled as one step, so it cannot use the Restate context (ctx.{name}) "
            "inside: a tool that does its own durable steps takes RunContextWrapper[restate.Context] as "
            "its first parameter, or is wrapped with not_journaled(...)",
            status_code=500,
        )
        refused = _REFUSED.get()
        if refused is not None and not refused:
            refused.append(error)
        raise error


_GUARDED = (
    "run",
    "run_typed",
    "sleep",
    "do_raw_call",
    "awakeable",
    "resolve_awakeable",
    "reject_awakeable",
    "get",
    "set",
    "clear",
    "clear_all",
    "state_keys",
    "promise",
    "signal",
    "resolve_signal",
    "reject_signal",
    "cancel_invocation",
    "attach_invocation",
    "random",
    "uuid",
    "time",
)
"""The ``ServerInvocationContext`` methods that journal (or advance the journal's random seed): all
of them refuse inside a step journaled whole, however the tool reached the context."""

_guard_installed = False


def _refusing(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        step = _IN_STEP.get()
        if step is not None:
            _NoContextInStep(step).__getattr__(name)
        return method(self, *args, **kwargs)

    return guarded


def _install_step_guard() -> None:
    """Make a Restate context reached another way (a field of the run context, a closure) refuse
    durable actions inside a step journaled whole, like ``current_context()`` does. Without it such
    an action would be journaled inside the step and skipped with it on replay: silently wrong."""
    global _guard_installed
    if _guard_installed:
        return
    cls = _server_context.ServerInvocationContext
    for name in _GUARDED:
        method = cls.__dict__.get(name)
        if method is not None:
            setattr(cls, name, _refusing(name, method))
    _guard_installed = True


@asynccontextmanager
async def inside_step(name: str) -> AsyncIterator[None]:
    """Mark the body of a step journaled whole; any use of the Restate context in it fails loudly."""
    _install_step_guard()
    refused: list[restate.TerminalError] = []
    with bound(_IN_STEP, name), bound(_REFUSED, refused), context_stand_in(_NoContextInStep(name)):
        yield
    if refused:  # the body caught the refusal (the SDK's failure_error_function does): fail anyway
        raise refused[0]


def no_context_in_step(step: str) -> Any:
    """A stand-in for the Restate context inside the step ``step`` (see ``inside_step``)."""
    return _NoContextInStep(step)


@dataclass
class InvocationScope:
    """Per-invocation state: tool turns by call id, deferred tool hooks, and the run order."""

    turns: dict[str, ToolTurn] = field(default_factory=dict)
    tool_hooks: dict[str, PendingToolHooks] = field(default_factory=dict)
    concurrency_limit: int | None = None
    """The ``max_function_tool_concurrency`` of the running ``DurableRunner`` run, if any."""
    _tickets: itertools.count[int] = field(default_factory=itertools.count)
    _serving: int = 0
    _turn_changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def new_turn(self, calls: Iterable[tuple[str, bool]]) -> ToolTurn:
        """Register a model turn's function calls: ``(call_id, eligible)`` in the model's order."""
        listed = list(calls)
        strict = self.concurrency_limit is not None or not all(eligible for _, eligible in listed)
        turn = ToolTurn([call_id for call_id, _ in listed], strict=strict)
        retire_when_superseded(turn)
        for call_id, _ in listed:
            self.turns[call_id] = turn
        return turn

    def turn_for(self, call_id: str) -> ToolTurn:
        """The turn of ``call_id``; a call no journaled response listed (a resumed approval) gets a
        strict turn of its own kind: such calls run one at a time, in the order they arrive."""
        turn = self.turns.get(call_id)
        if turn is None:
            turn = self.turns.setdefault("", ToolTurn((), strict=True))
        return turn

    @asynccontextmanager
    async def top_level_run(self) -> AsyncIterator[None]:
        """Run the invocation's top-level agent runs one after another, in the order they started.

        ``asyncio.gather(DurableRunner.run(a, ...), DurableRunner.run(b, ...))`` starts both runs in
        argument order; taking the ticket before the first await keeps that order on every replay.
        Run concurrently, the two would issue their steps in an order set by the provider's timing.
        """
        ticket = next(self._tickets)
        async with self._turn_changed:
            await self._turn_changed.wait_for(lambda: self._serving == ticket)
        try:
            yield
        finally:
            async with self._turn_changed:
                self._serving += 1
                self._turn_changed.notify_all()


def invocation_scope(ctx: restate.Context) -> InvocationScope | None:
    """The scope of the invocation ``ctx`` belongs to, created on first use; ``None`` for a context
    that is not the Restate SDK's own (e.g. a test double)."""
    return invocation_data(ctx, _KEY, InvocationScope)
