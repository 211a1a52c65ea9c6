"""Human approval of tool calls (``needs_approval``), resolved durably in the same invocation.

The Agents SDK stops a run when a tool needs approval and hands the caller the pending calls
(``result.interruptions``); the caller is expected to keep a ``RunState`` somewhere, ask a person,
and resume later. On Restate the invocation itself can wait: each pending call gets an awakeable,
its ready-to-run ``curl`` command is printed once (in a journaled step, so not on replay), and the
invocation suspends until someone resolves it over plain HTTP:

    curl localhost:8080/restate/awakeables/<id>/resolve --json 'true'
    curl localhost:8080/restate/awakeables/<id>/resolve --json '{"approved": false, "message": "too expensive"}'

The decision is applied with the SDK's own ``RunState.approve`` / ``RunState.reject``, so a rejection
reaches the model exactly as the SDK words it (or with the given message).
"""

from __future__ import annotations

import datetime
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import restate
from agents.items import ToolApprovalItem
from agents.result import RunResult
from agents.run_state import RunState
from pydantic import BaseModel
from restate.exceptions import TerminalError

from ..awakeables import announce, resolve_command

if TYPE_CHECKING:
    from ..streams import TopicPublisher

__all__ = [
    "PENDING_APPROVALS_KEY",
    "ApprovalDecision",
    "ApprovalPolicy",
    "ApprovalRequest",
    "PendingApprovals",
    "pending_approvals",
    "resolve_approvals",
]

PENDING_APPROVALS_KEY = "pending_approvals"
"""Object state key under which a Virtual Object keeps the tool calls waiting for a human."""


class ApprovalRequest(BaseModel):
    """One tool call waiting for a human decision."""

    awakeable_id: str
    """Resolve it at ``POST /restate/awakeables/<awakeable_id>/resolve`` with ``true`` or ``false``."""
    tool_name: str
    arguments: str
    """The arguments as the model sent them (a JSON string)."""
    call_id: str | None = None
    agent: str

    @property
    def approve_command(self) -> str:
        return resolve_command(self.awakeable_id, True)

    @property
    def reject_command(self) -> str:
        return resolve_command(self.awakeable_id, False)


class PendingApprovals(BaseModel):
    """What waits for a human in one Virtual Object (a model, so a handler can return it as is)."""

    requests: list[ApprovalRequest]


class ApprovalDecision(BaseModel):
    """The resolved value: ``true``/``false`` or ``{"approved": bool, "message": str, "by": str}``.

    ``message`` is sent to the model in place of the SDK's default rejection text; ``by`` names who
    decided (shown on the run's event topic, e.g. by the chat page).
    """

    approved: bool
    message: str | None = None
    by: str | None = None


Notify = Callable[[ApprovalRequest], Awaitable[None] | None]


@dataclass(frozen=True)
class ApprovalPolicy:
    """How ``DurableRunner`` resolves tool calls that need approval.

    - ``announce``: print the ready-to-run resolve commands to stdout (once, not on replay);
    - ``notify``: called with each :class:`ApprovalRequest` inside a journaled step (retried until
      it succeeds, never repeated on replay), e.g. to post the request to a chat channel;
    - ``timeout``: how long to wait for a decision; when it passes, ``on_timeout`` decides
      (reject by default) and ``timeout_message`` is what the model is told on a rejection;
    - ``state_key``: in a Virtual Object, the state key that lists the pending requests
      (read them from a shared handler with :func:`pending_approvals`).
    """

    announce: bool = True
    notify: Notify | None = None
    timeout: timedelta | None = None
    on_timeout: bool = False
    timeout_message: str | None = None
    state_key: str = PENDING_APPROVALS_KEY


async def pending_approvals(
    ctx: restate.ObjectContext | restate.ObjectSharedContext, *, state_key: str = PENDING_APPROVALS_KEY
) -> PendingApprovals:
    """The tool calls of this Virtual Object that wait for a human, from any handler (shared ones too).

    ```python
    @chat.handler(kind="shared")
    async def approvals(ctx: restate.ObjectSharedContext) -> PendingApprovals:
        return await pending_approvals(ctx)
    ```
    """
    stored = await ctx.get(state_key, type_hint=list) or []
    return PendingApprovals(requests=[ApprovalRequest.model_validate(entry) for entry in stored])


def _request(item: ToolApprovalItem, awakeable_id: str) -> ApprovalRequest:
    agent = getattr(item, "agent", None)
    return ApprovalRequest(
        awakeable_id=awakeable_id,
        tool_name=item.qualified_name or item.name or "tool",
        arguments=item.arguments or "{}",
        call_id=item.call_id,
        agent=getattr(agent, "name", None) or "",
    )


def _announcement(request: ApprovalRequest) -> str:
    return (
        f"Tool call waiting for approval: {request.tool_name}({request.arguments}) by agent {request.agent!r}\n"
        f"  approve: {request.approve_command}\n"
        f"  reject:  {request.reject_command}"
    )


def _decision(request: ApprovalRequest, payload: Any) -> ApprovalDecision:
    if isinstance(payload, bool):
        return ApprovalDecision(approved=payload)
    if (
        isinstance(payload, dict)
        and isinstance(payload.get("approved"), bool)
        and isinstance(payload.get("message"), (str, type(None)))
        and isinstance(payload.get("by"), (str, type(None)))
        and set(payload) <= {"approved", "message", "by"}
    ):
        return ApprovalDecision.model_validate(payload)
    raise TerminalError(
        f"approval of {request.tool_name} (awakeable {request.awakeable_id}) must be resolved with true, false "
        f'or {{"approved": true|false, "message": "...", "by": "<who>"}}; got {payload!r}',
        400,
    )


def _stateful(ctx: restate.Context) -> restate.ObjectContext | None:
    """The context if its handler may write state: an exclusive Virtual Object handler or a workflow's run.

    Restate's context object has ``set`` whatever the service kind, so the handler definition decides.
    """
    handler = getattr(ctx, "handler", None)
    service_kind = getattr(getattr(handler, "service_tag", None), "kind", None)
    handler_kind = getattr(handler, "kind", None)
    if (service_kind, handler_kind) in (("object", "exclusive"), ("object", None), ("workflow", "workflow")):
        return ctx  # type: ignore[return-value]
    return None


async def _store(ctx: restate.ObjectContext, key: str, add: list[ApprovalRequest], remove: set[str]) -> None:
    stored = [entry for entry in await ctx.get(key, type_hint=list) or [] if entry.get("awakeable_id") not in remove]
    stored.extend(request.model_dump(mode="json") for request in add)
    if stored:
        ctx.set(key, stored)
    else:
        ctx.clear(key)


async def resolve_approvals(
    ctx: restate.Context, result: RunResult, policy: ApprovalPolicy, events: TopicPublisher | None = None
) -> RunState[Any]:
    """Wait durably for a decision on every pending call of ``result``; return the state to resume.

    All requests of one interruption are announced together and share one timeout. Rejecting the
    awakeable itself (``/reject``) counts as a rejection with its reason as the message. With
    ``events`` (the run's publisher) each request is also announced on the run's topic
    (``approval``) and its decision published (``approval_done``: who, when), so a chat page shows
    and answers it.
    """
    state = result.to_state()
    items = list(result.interruptions)
    waiting: list[tuple[ToolApprovalItem, ApprovalRequest, restate.RestateDurableFuture[Any]]] = []
    for item in items:
        awakeable: tuple[str, restate.RestateDurableFuture[Any]] = ctx.awakeable()
        awakeable_id, promise = awakeable
        waiting.append((item, _request(item, awakeable_id), promise))

    stateful = _stateful(ctx)
    if stateful is not None:  # listed before anyone hears of them, so a notified person finds them listed
        await _store(stateful, policy.state_key, [request for _, request, _ in waiting], set())

    if events is not None:
        events.send(ctx, [_approval_event(request) for _, request, _ in waiting])
    for _, request, _ in waiting:
        if policy.announce:
            await ctx.run_typed(f"Announce approval: {request.tool_name}", announce, text=_announcement(request))
        if policy.notify is not None:
            await ctx.run_typed(
                f"Notify approval: {request.tool_name}", _call_notify, notify=policy.notify, request=request
            )

    timer = ctx.sleep(policy.timeout, name="approval timeout") if policy.timeout is not None else None
    decided = {request.awakeable_id for _, request, _ in waiting}
    try:
        for item, request, promise in waiting:
            decision = await _wait(request, promise, timer, policy)
            if events is not None:
                events.send(ctx, [await _decision_event(ctx, request, decision)])
            if decision.approved:
                state.approve(item)
            else:
                state.reject(item, rejection_message=decision.message)
    except TerminalError:  # the invocation ends (an invalid decision, a cancellation): nothing waits any more
        if stateful is not None:
            await _store(stateful, policy.state_key, [], decided)
        raise
    if stateful is not None:
        await _store(stateful, policy.state_key, [], decided)
    return state


def _approval_event(request: ApprovalRequest) -> tuple[Any, str, dict[str, Any]]:
    question = f"{request.tool_name}({request.arguments})"
    data = {"awakeable_id": request.awakeable_id, "question": question, "tool": request.tool_name}
    return "approval", f"approval {request.awakeable_id}", {**data, "arguments": request.arguments}


async def _decision_event(
    ctx: restate.Context, request: ApprovalRequest, decision: ApprovalDecision
) -> tuple[Any, str, dict[str, Any]]:
    at = datetime.datetime.fromtimestamp(await ctx.time(), datetime.UTC).isoformat(timespec="seconds")
    data = {
        "awakeable_id": request.awakeable_id,
        "approved": decision.approved,
        "reason": decision.message or "",
        "by": decision.by or "",
        "at": at,
    }
    return "approval_done", f"approval {request.awakeable_id}", data


async def _call_notify(notify: Notify, request: ApprovalRequest) -> None:
    outcome = notify(request)
    if inspect.isawaitable(outcome):
        await outcome


async def _wait(
    request: ApprovalRequest,
    promise: restate.RestateDurableFuture[Any],
    timer: restate.RestateDurableFuture[None] | None,
    policy: ApprovalPolicy,
) -> ApprovalDecision:
    try:
        if timer is None:
            winner, value = "decision", await promise
        else:
            winner, value = await restate.select(decision=promise, timeout=timer)
    except TerminalError as rejected:  # the awakeable was rejected: a "no", with the reason as message
        return ApprovalDecision(approved=False, message=rejected.message or None)
    if winner == "decision":
        return _decision(request, value)
    seconds = policy.timeout.total_seconds() if policy.timeout is not None else 0
    unit = "second" if seconds == 1 else "seconds"
    message = policy.timeout_message or f"The tool call was not approved within {seconds:g} {unit}."
    return ApprovalDecision(approved=policy.on_timeout, message=None if policy.on_timeout else message)
