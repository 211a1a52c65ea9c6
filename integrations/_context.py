"""The Restate context of the running handler, if any."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import restate
from restate.extensions import current_context
from restate.server_context import get_extension_data, set_extension_data

_Scope = TypeVar("_Scope")


def running_context() -> restate.Context | None:
    """The current handler's context, or ``None`` outside Restate.

    ``restate.extensions.current_context()`` raises ``LookupError`` (rather than returning ``None``)
    when no handler is running: its context variable has no default.
    """
    try:
        return current_context()
    except LookupError:
        return None


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
