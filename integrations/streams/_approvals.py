"""A person approves or rejects: an awakeable announced on the topic, so the chat page shows buttons."""

from __future__ import annotations

import restate
from restate.exceptions import TerminalError

from ._publisher import TopicPublisher

__all__ = ["await_approval"]


async def await_approval(ctx: restate.Context, events: TopicPublisher, question: str) -> bool:
    """Wait durably until a person answers ``question``; ``True`` if approved.

    Publishes an ``approval`` event with the awakeable id (the chat page shows approve/reject
    buttons for it) and, once answered, an ``approval_done`` event. Resolving the awakeable with
    ``true`` approves; ``false`` or rejecting it (``/restate/awakeables/<id>/reject``) declines.
    The chat page resolves it with ``{"approved": ..., "by": "<principal>", "message": ...}``: who
    answered is then in the journal (the awakeable's value) and in ``approval_done`` (``data.by``).
    Both events are sent from the journal: a replay or a restart does not announce it twice, and
    the wait survives restarts like any awakeable. Call it from handler or tool code, not ``ctx.run``.
    """
    awakeable_id, answer = ctx.awakeable(type_hint=object)
    step = f"approval {awakeable_id}"
    events.send(ctx, [("approval", step, {"awakeable_id": awakeable_id, "question": question})])
    reason, by = "", ""
    try:
        value = await answer
    except TerminalError as rejected:
        approved, reason = False, rejected.message
    else:
        if isinstance(value, dict):
            approved = value.get("approved") is True
            reason, by = str(value.get("message") or ""), str(value.get("by") or "")
        else:
            approved = value is True
    done = {"awakeable_id": awakeable_id, "approved": approved, "reason": reason, "by": by}
    events.send(ctx, [("approval_done", step, done)])
    return approved
