"""Routing: the model picks a tool, a local specialist, or a remote specialist service.

Routing decisions are journaled model calls, so a retry or crash never re-routes a request to a
different target than the one already chosen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import restate
from pydantic import BaseModel

from integrations.litellm import LLMResponse, tool

from ._examples import SupportTicket, fetch_service_status, query_user_database
from ._llm import chat, llm_step, text_of
from ._loop import DEFAULT_MAX_TURNS, run_agent_loop
from ._tools import LocalTool, RemoteTool, Tool

__all__ = [
    "DEFAULT_SPECIALISTS",
    "DEFAULT_SUPPORT_TOOLS",
    "RoutingInput",
    "Specialist",
    "SupportQuestion",
    "agent_router",
    "agent_router_service",
    "remote_agent_router",
    "remote_agent_router_service",
    "remote_specialists",
    "specialist_service",
    "specialist_services",
    "support_tickets",
    "support_tickets_service",
    "tool_router",
    "tool_router_service",
]

NO_ROUTE = "Sorry, I cannot help with this request."


class SupportQuestion(BaseModel):
    """A support request from a known user."""

    user_id: str = "user_12345"
    message: str = "My API calls are failing, what's wrong with my account?"


class RoutingInput(BaseModel):
    """A request to route to the right specialist."""

    message: str = "I can't log into my account. I keep getting invalid password errors."


# -- routing to tools ----------------------------------------------------------------------------

DEFAULT_SUPPORT_TOOLS: tuple[Tool, ...] = (
    LocalTool("fetch_service_status", "Check the platform's service status and ongoing outages", fetch_service_status),
    LocalTool("query_user_database", "Get the user's account, plan and billing information", query_user_database),
    RemoteTool(
        "create_support_ticket",
        "Create a support ticket when the problem needs a human engineer",
        service="SupportTickets",
        handler="create",
        parameters=SupportTicket,
    ),
)

TOOL_ROUTER_PROMPT = (
    "You are a support agent. Use the tools to diagnose the user's problem, then answer concisely. "
    "Create a support ticket only if the problem cannot be solved by the user."
)


def tool_router_service(
    tools: Sequence[Tool] = DEFAULT_SUPPORT_TOOLS,
    *,
    name: str = "ToolRouter",
    instructions: str = TOOL_ROUTER_PROMPT,
    model: str | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> restate.Service:
    """A service whose ``route`` handler lets the model call ``tools`` until it can answer.

    Local tools run as journaled steps in this handler; remote tools are durable calls to other
    services (which then run, retry and scale on their own).
    """
    chosen = tuple(tools)
    service = restate.Service(name)

    @service.handler()
    async def route(ctx: restate.Context, question: SupportQuestion) -> str:
        """Route the question through tools until the model gives a final answer."""
        messages = chat(instructions, question.message)
        return await run_agent_loop(
            ctx, messages, chosen, request=question, model=model, parallel=False, max_turns=max_turns
        )

    return service


def support_tickets_service(name: str = "SupportTickets") -> restate.Service:
    """The remote tool behind ``create_support_ticket``: files a ticket, returns its id."""
    service = restate.Service(name)

    @service.handler()
    async def create(ctx: restate.Context, ticket: SupportTicket) -> dict[str, str]:
        """Create a ticket; the id comes from Restate's deterministic random, so retries agree."""
        ticket_id = f"TICKET-{ctx.random().randint(10_000, 99_999)}"
        return {"ticket_id": ticket_id, "user_id": ticket.user_id, "priority": ticket.priority, "status": "open"}

    return service


# -- routing to specialists ----------------------------------------------------------------------


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


def _check_specialists(specialists: Sequence[Specialist]) -> tuple[Specialist, ...]:
    chosen = tuple(specialists)
    if not chosen:
        raise ValueError("routing needs at least one specialist")
    names = [s.name for s in chosen]
    if len(set(names)) != len(names):
        raise ValueError(f"specialist names must be unique: {names}")
    return chosen


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
    chosen = _check_specialists(specialists)
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
    chosen = _check_specialists(specialists)
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
    return [specialist_service(s, model=model) for s in _check_specialists(specialists)]


tool_router = tool_router_service()
support_tickets = support_tickets_service()
agent_router = agent_router_service()
remote_agent_router = remote_agent_router_service()
remote_specialists = specialist_services()
