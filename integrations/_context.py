"""The Restate context of the running handler, if any."""

from __future__ import annotations

import restate
from restate.extensions import current_context


def running_context() -> restate.Context | None:
    """The current handler's context, or ``None`` outside Restate.

    ``restate.extensions.current_context()`` raises ``LookupError`` (rather than returning ``None``)
    when no handler is running: its context variable has no default.
    """
    try:
        return current_context()
    except LookupError:
        return None
