"""Routing to tools: the model picks tools until it can answer; local tools run as journaled
steps, remote tools are durable calls to other Restate services.

Every model turn and every tool result is journaled, so a retry or crash never re-runs a tool
that already ran, nor asks the model again for a decision it already made.
"""

from __future__ import annotations

from collections.abc import Sequence

import restate
from pydantic import BaseModel

from integrations.testing import ModelRequest, Reply

from ._examples import SupportTicket, fetch_service_status, query_user_database
from ._llm import chat
from ._loop import DEFAULT_MAX_TURNS, run_agent_loop
from ._offline import answer, instructed, tool_calls
from ._pattern import Pattern
from ._tools import LocalTool, RemoteTool, Tool
from ._validation import unique_by_name

__all__ = [
    "PATTERN",
    "DEFAULT_SUPPORT_TOOLS",
    "SupportQuestion",
    "offline_script",
    "support_tickets_service",
    "tool_router_service",
]


class SupportQuestion(BaseModel):
    """A support request from a known user."""

    user_id: str = "user_12345"
    message: str = "My API calls are failing, what's wrong with my account?"


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
    services (which then run, retry and scale on their own). Tool calls run one after another.
    """
    chosen = unique_by_name(tools, "tool")
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


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default support agent: checks the account and the service status
    (two local tools in one turn), then answers from what they returned."""
    if not instructed(request, TOOL_ROUTER_PROMPT):
        return None
    outputs = request.tool_outputs()
    if not outputs:
        return tool_calls(("query_user_database", {}), ("fetch_service_status", {}))
    return answer("I checked your account and the service status: " + " | ".join(outputs))


PATTERN = Pattern(
    defaults=lambda: {"tool_router": tool_router_service(), "support_tickets": support_tickets_service()},
    offline_script=offline_script,
)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
