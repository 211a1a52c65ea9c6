"""The Restate context of the running handler, if any, and the context-variable blocks built on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

import restate
from restate import server_context as _server_context
from restate.extensions import current_context
from restate.server_context import get_extension_data, set_extension_data

_Scope = TypeVar("_Scope")
_Value = TypeVar("_Value")


def running_context() -> restate.Context | None:
    """The current handler's context, or ``None`` outside Restate.

    ``restate.extensions.current_context()`` raises ``LookupError`` (rather than returning ``None``)
    when no handler is running: its context variable has no default.
    """
    try:
        return current_context()
    except LookupError:
        return None


def required_context(explicit: restate.Context | None, outside: str) -> restate.Context:
    """``explicit``, else the running handler's context; outside a handler ``RuntimeError(outside)``.

    For the objects that may be built at module level without a context and must find the handler's
    at call time (a durable model): ``outside`` tells the user what to do instead, in the adapter's
    own words.
    """
    ctx = explicit or running_context()
    if ctx is None:
        raise RuntimeError(outside)
    return ctx


@contextmanager
def bound(var: ContextVar[_Value], value: _Value) -> Iterator[None]:
    """``var`` is ``value`` inside the block and what it was before once the block ends (even by an
    exception): the toolkit's markers (the running step, the active run) are all such blocks."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def context_stand_in(stand_in: object) -> AbstractContextManager[None]:
    """Inside the block ``current_context()`` returns ``stand_in`` instead of the handler's context.

    How both adapters make a step journaled whole refuse the Restate context in its body (their
    ``inside_step``): the SDK keeps the context in a private context variable, reached here only.
    """
    return bound(_server_context._restate_context_var, cast(restate.Context, stand_in))  # duck-typed


def invocation_data(ctx: restate.Context, key: str, create: Callable[[], _Scope]) -> _Scope | None:
    """The object an adapter keeps per invocation under ``key`` in the invocation's own extension
    data, created on first use; ``None`` for a context that is not the Restate SDK's own (a test
    double). Kept there, not in a module dict, so it lives and dies with the invocation."""
    try:
        found: Any = get_extension_data(ctx, key)
    except RuntimeError:
        return None
    if found is None:
        found = create()
        set_extension_data(ctx, key, found)
    return found  # type: ignore[no-any-return]
