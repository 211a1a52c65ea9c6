"""A person approves or rejects: an awakeable announced on the topic, so the chat page shows buttons."""

from __future__ import annotations

import datetime
from typing import Any

import restate
from restate.exceptions import TerminalError

from ._publisher import TopicPublisher, current_publisher

__all__ = ["await_approval"]


def _decision(payload: Any, awakeable_id: str) -> tuple[bool, str, str]:
    """(approved, reason, by) from ``true``/``false`` or ``{"approved": ..., "by": ..., "reason": ...}``."""
    if isinstance(payload, bool):
        return payload, "", ""
    if isinstance(payload, dict) and isinstance(payload.get("approved"), bool):
        by, reason = payload.get("by") or "", payload.get("reason") or payload.get("message") or ""
        if isinstance(by, str) and isinstance(reason, str):
            return payload["approved"], reason[:500], by[:200]
    raise TerminalError(
        f"approval {awakeable_id} must be resolved with true, false or "
        f'{{"approved": true|false, "by": "<who>", "reason": "..."}}; got {payload!r}',
        400,
    )


async def await_approval(
    ctx: restate.Context,
    question: str,
    *,
    events: TopicPublisher | None = None,
) -> bool:
    """Wait durably until a person answers ``question``; ``True`` if approved.

    Publishes an ``approval`` event with the awakeable id (the chat page shows approve/reject
    buttons for it) and, once answered, an ``approval_done`` event saying who decided (``by``, as
    the resolver named themselves) and when (``at``, journaled ISO time). ``events`` defaults to the
    publisher of the run this tool is part of (``current_publisher``): a tool of a run started with
    ``events=`` needs nothing else. Resolve the awakeable with ``true``/``false`` or
    ``{"approved": true, "by": "alice"}``; rejecting it (``/restate/awakeables/<id>/reject``)
    declines, with its text as ``reason``. The chat page's proxy resolves it with the principal its
    authorization hook found as ``by`` (a rejection too), so who answered is in the journal (the
    awakeable's value) and on the stream. Both events are sent from the journal: a replay or a
    restart does not announce it twice, and the wait survives restarts like any awakeable. Call it
    from handler or tool code, not inside ``ctx.run``.
    """
    publisher = events if events is not None else current_publisher(ctx)
    if publisher is None:
        raise TerminalError(
            "await_approval: this invocation has no event publisher to announce the approval on; run the "
            "agent with DurableRunner.run(..., events=TopicPublisher(topic)) or pass events=...",
            500,
        )
    awakeable: tuple[str, restate.RestateDurableFuture[Any]] = ctx.awakeable()
    awakeable_id, answer = awakeable
    step = f"approval {awakeable_id}"
    publisher.send(ctx, [("approval", step, {"awakeable_id": awakeable_id, "question": question})])
    try:
        payload = await answer
    except TerminalError as rejected:
        approved, reason, by = False, rejected.message, ""
    else:
        approved, reason, by = _decision(payload, awakeable_id)
    seconds = await ctx.time()
    at = datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat(timespec="seconds")
    done = {"awakeable_id": awakeable_id, "approved": approved, "reason": reason, "by": by, "at": at}
    publisher.send(ctx, [("approval_done", step, done)])
    return approved
