"""Human-in-the-loop: the agent suspends on an awakeable until a person decides.

While it waits, the invocation holds no process or memory: the service may crash, be redeployed
or scale to zero, and the decision still reaches it. The timeout variant races the decision
against a durable timer and escalates when nobody answers in time.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import restate
from pydantic import BaseModel

from integrations.litellm import tool

from ._llm import chat, llm_step, text_of

__all__ = [
    "ModerationInput",
    "ModerationResult",
    "Notify",
    "ReviewRequest",
    "human_in_the_loop",
    "human_in_the_loop_service",
    "human_in_the_loop_with_timeout",
    "human_in_the_loop_with_timeout_service",
    "print_review_request",
]

MODERATION_PROMPT = (
    "You are a content moderation agent. Decide whether the content violates policy. Answer "
    "'approved' or 'rejected' with a short reason. If you are not sure, call get_human_review."
)
HUMAN_REVIEW_TOOL = tool("get_human_review", "Ask a human moderator when a policy violation is uncertain.")


class ModerationInput(BaseModel):
    """The content to moderate."""

    message: str = "Limited offer: send us 1 BTC and we send 2 BTC back, guaranteed!"


class ModerationResult(BaseModel):
    """The decision and who made it."""

    decision: str
    decided_by: Literal["model", "moderator", "escalation", "timeout"]


@dataclass(frozen=True)
class ReviewRequest:
    """What a reviewer needs: the content and the awakeable id to resolve with the decision."""

    service: str
    reviewer: Literal["moderator", "escalation"]
    content: str
    awakeable_id: str


Notify = Callable[[ReviewRequest], None]
"""Tells a person a decision is needed (e-mail, Slack, ticket...); runs as a journaled step."""


def print_review_request(request: ReviewRequest) -> None:
    """The default notification: one line in the service log with the command that resolves it.

    The ingress address comes from ``RESTATE_INGRESS_URL`` (default ``http://localhost:8080``).
    """
    ingress = os.environ.get("RESTATE_INGRESS_URL", "http://localhost:8080").rstrip("/")
    print(
        f"[{request.service}] {request.reviewer} review needed for {request.content!r}. Resolve with: "
        f"curl {ingress}/restate/awakeables/{request.awakeable_id}/resolve --json '\"approved\"'",
        file=sys.stdout,
        flush=True,
    )


def _notify_step(notify: Notify, request: ReviewRequest) -> str:
    notify(request)
    return request.awakeable_id


async def _moderate_by_model(
    ctx: restate.Context, content: str, instructions: str, model: str | None
) -> str | None:
    """The model's decision, or ``None`` when it asks for a human."""
    verdict = await llm_step(ctx, "Moderate", chat(instructions, content), tools=[HUMAN_REVIEW_TOOL], model=model)
    if any(call.function.name == "get_human_review" for call in verdict.tool_calls):
        return None
    return text_of(verdict)


def _ask(
    ctx: restate.Context, service: str, reviewer: Literal["moderator", "escalation"], content: str, notify: Notify
) -> tuple[restate.RestateDurableFuture[str], restate.RestateDurableFuture[str]]:
    """Create the awakeable and notify the reviewer; returns (decision future, notify step)."""
    awakeable_id, decision = ctx.awakeable(type_hint=str)
    request = ReviewRequest(service=service, reviewer=reviewer, content=content, awakeable_id=awakeable_id)
    notified = ctx.run_typed(f"notify {reviewer}", _notify_step, restate.RunOptions(), notify=notify, request=request)
    return decision, notified


def human_in_the_loop_service(
    *,
    name: str = "HumanInTheLoopService",
    instructions: str = MODERATION_PROMPT,
    model: str | None = None,
    notify: Notify = print_review_request,
) -> restate.Service:
    """A service whose ``moderate`` handler lets the model decide, or waits (durably, without a
    limit) for a human when the model asks for one."""
    service = restate.Service(name)

    @service.handler()
    async def moderate(ctx: restate.Context, content: ModerationInput) -> ModerationResult:
        """Moderate ``content``; suspend on an awakeable if a human must decide."""
        decision = await _moderate_by_model(ctx, content.message, instructions, model)
        if decision is not None:
            return ModerationResult(decision=decision, decided_by="model")
        approval, notified = _ask(ctx, name, "moderator", content.message, notify)
        await notified
        return ModerationResult(decision=await approval, decided_by="moderator")

    return service


def human_in_the_loop_with_timeout_service(
    *,
    name: str = "HumanInTheLoopWithTimeout",
    review_timeout: timedelta = timedelta(hours=4),
    escalation_timeout: timedelta = timedelta(hours=24),
    timeout_decision: str = "rejected",
    instructions: str = MODERATION_PROMPT,
    model: str | None = None,
    notify: Notify = print_review_request,
) -> restate.Service:
    """Like :func:`human_in_the_loop_service`, but a moderator who does not answer within
    ``review_timeout`` is escalated (a second reviewer, a second awakeable); if that one is silent
    for ``escalation_timeout`` too, ``timeout_decision`` applies. The timers are durable."""
    service = restate.Service(name)

    @service.handler()
    async def moderate(ctx: restate.Context, content: ModerationInput) -> ModerationResult:
        """Moderate ``content``; wait for a moderator, escalate on timeout, then fall back."""
        decision = await _moderate_by_model(ctx, content.message, instructions, model)
        if decision is not None:
            return ModerationResult(decision=decision, decided_by="model")
        steps: tuple[tuple[Literal["moderator", "escalation"], timedelta], ...] = (
            ("moderator", review_timeout),
            ("escalation", escalation_timeout),
        )
        for reviewer, timeout in steps:
            approval, notified = _ask(ctx, name, reviewer, content.message, notify)
            await notified
            match await restate.select(decision=approval, timeout=ctx.sleep(timeout, name=f"{reviewer} timeout")):
                case ["decision", value]:
                    return ModerationResult(decision=value, decided_by=reviewer)
                case _:
                    continue
        return ModerationResult(decision=timeout_decision, decided_by="timeout")

    return service


human_in_the_loop = human_in_the_loop_service()
human_in_the_loop_with_timeout = human_in_the_loop_with_timeout_service()
