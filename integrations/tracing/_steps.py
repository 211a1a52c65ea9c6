"""Which journaled step the running code belongs to: a marker the toolkit's steps set.

Kept free of OpenTelemetry imports: ``DurableModel`` and ``durable_function_tool`` use it whether or
not tracing is installed, and it costs one context-variable set per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from restate.server_context import ServerInvocationContext

from .._context import bound, running_context

_current_step: ContextVar[str | None] = ContextVar("durable_agents_journal_step", default=None)
_LAST_STEP_KEY = "durable_agents.last_journal_step"


@contextmanager
def journal_step(name: str) -> Iterator[None]:
    """Mark the code inside as the journaled step ``name`` (wrap the ``await ctx.run_typed(name, ...)``).

    Spans the body of the step creates are tagged with ``name`` and treated as work of this attempt
    only: a step body runs only when the step is not in the journal. The step is also remembered as
    the handler's latest step, which tags the spans that close after it. Enter it in handler code (it
    runs on every attempt, replayed or not), so the latest step is the same on every replay.
    """
    ctx = running_context()
    if isinstance(ctx, ServerInvocationContext):
        ctx.extension_data[_LAST_STEP_KEY] = name
    with bound(_current_step, name):
        yield


def current_step() -> str | None:
    """The journaled step whose body is running here, or ``None`` in plain handler code."""
    return _current_step.get()


def last_step(ctx: object) -> str | None:
    """The latest step the handler entered in this attempt (``None`` before the first one)."""
    if isinstance(ctx, ServerInvocationContext):
        value = ctx.extension_data.get(_LAST_STEP_KEY)
        return value if isinstance(value, str) else None
    return None
