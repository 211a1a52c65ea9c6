"""Human-in-the-loop: the agent suspends on an awakeable until a person decides.

While it waits, the invocation holds no process or memory: the service may crash, be redeployed
or scale to zero, and the decision still reaches it. The timeout variant races the decision
against a durable timer and escalates when nobody answers in time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import restate
from pydantic import BaseModel

from integrations.awakeables import announce, resolve_command
from integrations.litellm import tool
from integrations.testing import ModelRequest, Reply

from ._llm import chat, llm_step, text_of
from ._offline import answer, instructed, offers, tool_call
from ._pattern import Pattern

__all__ = [
    "PATTERN",
    "ModerationInput",
    "ModerationResult",
    "Notify",
    "ReviewRequest",
    "human_in_the_loop_service",
    "human_in_the_loop_with_timeout_service",
    "offline_script",
    "print_review_request",
]

MODERATION_PROMPT = (
    "You are a content moderation agent. Decide whether the content violates policy. Answer "
    "'approved' or 'rejected' with a short reason. If you are not sure, call get_human_review."
)
HUMAN_REVIEW_TOOL_NAME = "get_human_review"
HUMAN_REVIEW_TOOL = tool(HUMAN_REVIEW_TOOL_NAME, "Ask a human moderator when a policy violation is uncertain.")


class ModerationInput(BaseModel):
    """The content to moderate."""

    message: str = "Very explicit content that might violate the policy."


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
    invocation_id: str = ""
    """The waiting invocation: printed with the service, so two pending reviews are told apart."""


Notify = Callable[[ReviewRequest], None]
"""Tells a person a decision is needed (e-mail, Slack, ticket...); runs as a journaled step."""


def print_review_request(request: ReviewRequest) -> None:
    """The default notification: the ready-to-run approve and reject commands, printed to the
    service's stdout (the launcher shows it in the terminal).

    The ingress address comes from ``DURABLE_AGENTS_INGRESS_URL`` (default ``localhost:8080``), see
    :func:`integrations.awakeables.resolve_command`. It runs inside the journaled notify step, so it
    prints once per review request, not on every replay.
    """
    who = f"[{request.service} {request.invocation_id}]" if request.invocation_id else f"[{request.service}]"
    announce(
        f"{who} {request.reviewer} review needed for {request.content!r}\n"
        f"{who}   approve: {resolve_command(request.awakeable_id, 'approved')}\n"
        f"{who}   reject:  {resolve_command(request.awakeable_id, 'rejected')}"
    )


def _notify_step(notify: Notify, request: ReviewRequest) -> str:
    notify(request)
    return request.awakeable_id


async def _moderate_by_model(ctx: restate.Context, content: str, instructions: str, model: str | None) -> str | None:
    """The model's decision, or ``None`` when it asks for a human."""
    verdict = await llm_step(ctx, "Moderate", chat(instructions, content), tools=[HUMAN_REVIEW_TOOL], model=model)
    if any(call.function.name == HUMAN_REVIEW_TOOL_NAME for call in verdict.tool_calls):
        return None
    return text_of(verdict)


def _ask(
    ctx: restate.Context, service: str, reviewer: Literal["moderator", "escalation"], content: str, notify: Notify
) -> tuple[restate.RestateDurableFuture[str], restate.RestateDurableFuture[str]]:
    """Create the awakeable and notify the reviewer; returns (decision future, notify step)."""
    awakeable_id, decision = ctx.awakeable(type_hint=str)
    request = ReviewRequest(
        service=service,
        reviewer=reviewer,
        content=content,
        awakeable_id=awakeable_id,
        invocation_id=ctx.request().id,
    )
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
    limit) for a human when the model asks for one. It returns the decision text: the model's
    answer, or what the reviewer resolved the awakeable with (as the docs' page shows)."""
    service = restate.Service(name)

    @service.handler()
    async def moderate(ctx: restate.Context, content: ModerationInput) -> str:
        """Moderate ``content``; suspend on an awakeable if a human must decide."""
        decision = await _moderate_by_model(ctx, content.message, instructions, model)
        if decision is not None:
            return decision
        approval, notified = _ask(ctx, name, "moderator", content.message, notify)
        await notified
        return await approval

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
    for ``escalation_timeout`` too, ``timeout_decision`` applies. The timers are durable. It
    returns a :class:`ModerationResult`, whose ``decided_by`` says which path was taken."""
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


# -- offline script ------------------------------------------------------------------------------

_UNSURE = re.compile(r"explicit|violat|polic|btc|crypto|giveaway|guarantee|scam|hate|weapon|nsfw", re.IGNORECASE)


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default moderator: content that looks risky (the docs' payload
    "Very explicit content that might violate the policy." among it) goes to a human through
    ``get_human_review``, so the run waits for a reviewer; anything else is approved."""
    if not (instructed(request, MODERATION_PROMPT) and offers(request, HUMAN_REVIEW_TOOL_NAME)):
        return None
    if _UNSURE.search(request.last_user_text):
        return tool_call(HUMAN_REVIEW_TOOL_NAME)
    return answer("approved: nothing in this content violates the policy.")


PATTERN = Pattern(
    defaults=lambda: {
        "human_in_the_loop": human_in_the_loop_service(),
        "human_in_the_loop_with_timeout": human_in_the_loop_with_timeout_service(),
    },
    offline_script=offline_script,
)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
