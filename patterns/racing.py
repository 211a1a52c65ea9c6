"""Competitive racing: two approaches run at once, the first answer wins, the loser is cancelled.

Both approaches are separate invocations (durable calls), so the loser can be cancelled through
Restate: its invocation ends as cancelled and stops consuming model tokens at its next step.
"""

from __future__ import annotations

from typing import Any

import restate
from pydantic import BaseModel

from integrations.testing import ModelRequest, Reply

from ._llm import chat, llm_step, text_of
from ._offline import answer, instructed
from ._pattern import Pattern

__all__ = ["PATTERN", "RaceInput", "offline_script", "racing_service"]

THINK_LONGER_PROMPT = "Think step by step and analyse the question thoroughly before answering."
RESPOND_QUICKLY_PROMPT = "Answer immediately in one or two sentences."


class RaceInput(BaseModel):
    """The question both approaches answer."""

    message: str = "What's the best approach to learn machine learning?"


def racing_service(
    *,
    name: str = "RacingAgent",
    think_longer_instructions: str = THINK_LONGER_PROMPT,
    respond_quickly_instructions: str = RESPOND_QUICKLY_PROMPT,
    think_longer_model: str | None = None,
    respond_quickly_model: str | None = None,
) -> restate.Service:
    """A service with ``run`` (the race, returning the winning answer's text, as the docs' page
    shows) and its two contenders ``think_longer`` and ``respond_quickly``; each contender can use
    its own model (e.g. a reasoning model vs. a small fast one)."""
    service = restate.Service(name)

    @service.handler()
    async def think_longer(ctx: restate.Context, request: RaceInput) -> str:
        """The thorough approach."""
        reply = await llm_step(
            ctx, "Deep analysis", chat(think_longer_instructions, request.message), model=think_longer_model
        )
        return text_of(reply)

    @service.handler()
    async def respond_quickly(ctx: restate.Context, request: RaceInput) -> str:
        """The fast approach."""
        reply = await llm_step(
            ctx, "Quick response", chat(respond_quickly_instructions, request.message), model=respond_quickly_model
        )
        return text_of(reply)

    @service.handler()
    async def run(ctx: restate.Context, request: RaceInput) -> str:
        """Start both approaches; return the first successful answer and cancel the other.

        A contender that fails does not win: the race waits for the other one, and only fails
        if both fail.
        """
        contenders: dict[str, Any] = {
            "think_longer": ctx.service_call(think_longer, arg=request),
            "respond_quickly": ctx.service_call(respond_quickly, arg=request),
        }
        pending = dict(contenders)
        failure: restate.TerminalError | None = None
        while pending:
            done, _ = await restate.wait_completed(*pending.values())
            # a fixed order among simultaneously finished calls keeps replays deterministic
            for label in [k for k, f in pending.items() if f in done]:
                future = pending.pop(label)
                try:
                    winner: str = await future
                except restate.TerminalError as exc:
                    failure = exc
                    continue
                for loser in pending.values():
                    if loser not in done:
                        ctx.cancel_invocation(await loser.invocation_id())
                return winner
        assert failure is not None
        raise restate.TerminalError(f"both approaches failed; last error: {failure.message}")

    return service


THINKING_DELAY = 2.0
"""Seconds the offline model takes for the thorough approach, so the quick one wins the race
and the thorough one is visibly cancelled."""


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as both default contenders: the thorough one answers slowly."""
    question = request.last_user_text[:80]
    if instructed(request, THINK_LONGER_PROMPT):
        return answer(f"(thought it through) answering: {question}", delay=THINKING_DELAY)
    if instructed(request, RESPOND_QUICKLY_PROMPT):
        return answer(f"(quick answer) answering: {question}")
    return None


PATTERN = Pattern(defaults=lambda: {"racing_agent": racing_service()}, offline_script=offline_script)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
