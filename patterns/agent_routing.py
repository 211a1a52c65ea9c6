"""Routing to agents: the model picks a specialist, which answers in the same invocation (local)
or as its own service (remote).

The routing decision is a journaled model call, so a retry or crash never re-routes a request to
a different specialist than the one already chosen.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

import restate
from pydantic import BaseModel

from integrations.litellm import LLMResponse, tool
from integrations.testing import ModelRequest, Reply

from ._llm import chat, llm_step, text_of
from ._offline import answer as offline_answer, instructed, tool_call
from ._pattern import Pattern
from ._validation import unique_by_name

__all__ = [
    "PATTERN",
    "DEFAULT_SPECIALISTS",
    "RoutingInput",
    "Specialist",
    "agent_router_service",
    "offline_script",
    "remote_agent_router_service",
    "specialist_service",
    "specialist_services",
]

NO_ROUTE = "Sorry, I cannot help with this request."


class RoutingInput(BaseModel):
    """A request to route to the right specialist."""

    message: str = "I can't log into my account. I keep getting invalid password errors."


@dataclass(frozen=True)
class Specialist:
    """An agent the router can hand a request to: ``name`` is shown to the model as a tool (and
    is the service name when the specialist runs remotely), ``instructions`` its system prompt."""

    name: str
    description: str
    instructions: str


DEFAULT_SPECIALISTS: tuple[Specialist, ...] = (
    Specialist(
        "BillingAgent",
        "Billing questions: payments, charges, refunds, plans",
        "You are a billing support specialist. Acknowledge the billing issue, explain charges clearly "
        "and give next steps with a timeline. Be professional and friendly.",
    ),
    Specialist(
        "AccountAgent",
        "Account questions: login, password, security, access",
        "You are an account security specialist. Prioritise security and verification, give clear "
        "recovery steps and include security tips.",
    ),
    Specialist(
        "ProductAgent",
        "Product questions: features, usage, best practices",
        "You are a product specialist. Explain features and best practices with concrete examples.",
    ),
)

ROUTER_PROMPT = (
    "You route customer requests. Call exactly one of the tools: the specialist best suited for the "
    "request. If none fits, answer briefly yourself."
)


def _routing_tools(specialists: Sequence[Specialist]) -> list[dict[str, object]]:
    return [tool(s.name, s.description) for s in specialists]


def _picked(response: LLMResponse, specialists: Sequence[Specialist]) -> Specialist | None:
    if not response.tool_calls:
        return None
    name = response.tool_calls[0].function.name
    return next((s for s in specialists if s.name == name), None)


async def _classify(
    ctx: restate.Context, request: RoutingInput, specialists: Sequence[Specialist], instructions: str, model: str | None
) -> LLMResponse:
    return await llm_step(
        ctx, "Route request", chat(instructions, request.message), tools=_routing_tools(specialists), model=model
    )


def agent_router_service(
    specialists: Sequence[Specialist] = DEFAULT_SPECIALISTS,
    *,
    name: str = "AgentRouter",
    instructions: str = ROUTER_PROMPT,
    model: str | None = None,
) -> restate.Service:
    """A service whose ``answer`` handler lets the model pick a specialist, then runs that
    specialist's model call in the same invocation (one more journaled step)."""
    chosen = unique_by_name(specialists, "specialist", required=True)
    service = restate.Service(name)

    @service.handler()
    async def answer(ctx: restate.Context, request: RoutingInput) -> str:
        """Classify the request, then answer it as the chosen specialist."""
        routing = await _classify(ctx, request, chosen, instructions, model)
        specialist = _picked(routing, chosen)
        if specialist is None:
            return text_of(routing) or NO_ROUTE
        reply = await llm_step(ctx, specialist.name, chat(specialist.instructions, request.message), model=model)
        return text_of(reply)

    return service


def remote_agent_router_service(
    specialists: Sequence[Specialist] = DEFAULT_SPECIALISTS,
    *,
    name: str = "RemoteAgentRouter",
    instructions: str = ROUTER_PROMPT,
    model: str | None = None,
) -> restate.Service:
    """A service whose ``answer`` handler lets the model pick a specialist and calls the
    specialist's own service (``<specialist.name>/run``, see :func:`specialist_service`).

    The call is durable: if this router crashes after the call started, it re-attaches to the
    running specialist instead of starting a second one.
    """
    chosen = unique_by_name(specialists, "specialist", required=True)
    service = restate.Service(name)

    @service.handler()
    async def answer(ctx: restate.Context, request: RoutingInput) -> str:
        """Classify the request, then forward it to the chosen specialist service."""
        routing = await _classify(ctx, request, chosen, instructions, model)
        specialist = _picked(routing, chosen)
        if specialist is None:
            return text_of(routing) or NO_ROUTE
        payload = json.dumps({"message": request.message}).encode()
        raw = await ctx.generic_call(specialist.name, "run", arg=payload)
        return str(json.loads(raw))

    return service


def specialist_service(specialist: Specialist, *, model: str | None = None) -> restate.Service:
    """A specialist agent as its own service, ``<specialist.name>/run``: deploy and scale it
    separately from the router."""
    service = restate.Service(specialist.name)

    @service.handler()
    async def run(ctx: restate.Context, request: RoutingInput) -> str:
        """Answer the request with the specialist's instructions."""
        reply = await llm_step(ctx, specialist.name, chat(specialist.instructions, request.message), model=model)
        return text_of(reply)

    return service


def specialist_services(
    specialists: Sequence[Specialist] = DEFAULT_SPECIALISTS, *, model: str | None = None
) -> list[restate.Service]:
    """One :func:`specialist_service` per specialist, for the remote router."""
    return [specialist_service(s, model=model) for s in unique_by_name(specialists, "specialist", required=True)]


# -- offline script ------------------------------------------------------------------------------

_TOPICS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("BillingAgent", re.compile(r"charg|bill|refund|invoice|plan|pay", re.IGNORECASE)),
    ("AccountAgent", re.compile(r"log ?in|password|account|secur|access", re.IGNORECASE)),
)


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default router (picks a specialist by keywords, the product
    specialist when nothing else fits) and as each default specialist."""
    if instructed(request, ROUTER_PROMPT):
        question = request.last_user_text
        return tool_call(next((name for name, topic in _TOPICS if topic.search(question)), "ProductAgent"))
    for specialist in DEFAULT_SPECIALISTS:
        if instructed(request, specialist.instructions):
            role = specialist.instructions.split(".")[0]
            return offline_answer(f"({role}) answering: {request.last_user_text[:80]}")
    return None


PATTERN = Pattern(
    defaults=lambda: {
        "agent_router": agent_router_service(),
        "remote_agent_router": remote_agent_router_service(),
        "remote_specialists": specialist_services(),
    },
    offline_script=offline_script,
)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
