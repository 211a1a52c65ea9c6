"""Every pattern's default service, built here and only here, served as one Restate app.

``hypercorn patterns.app:app`` or ``python -m integrations.runtime.serve patterns.app:app --port 9080``,
then register ``http://localhost:9080`` with the Restate server. The pattern modules only define
builders; the instances below are what ``./dev up patterns`` serves, with the docs' names.
"""

from __future__ import annotations

import restate

from integrations.inputs import guard_inputs

from .agent_routing import agent_router_service, remote_agent_router_service, specialist_services
from .chaining import chaining_service
from .chat import chat_object
from .evaluator import evaluator_optimizer_service
from .human import human_in_the_loop_service, human_in_the_loop_with_timeout_service
from .manual_loop import manual_loop_service
from .orchestrator import orchestrator_service
from .parallel import parallel_agents_service, parallel_tools_service
from .racing import racing_service
from .saga import saga_service
from .tool_routing import support_tickets_service, tool_router_service

__all__ = [
    "DEFAULT_SERVICES",
    "agent_router",
    "app",
    "booking_with_rollback_agent",
    "call_chaining_service",
    "chat_session",
    "evaluator_optimizer",
    "human_in_the_loop",
    "human_in_the_loop_with_timeout",
    "manual_loop_agent",
    "orchestrator",
    "parallel_agents",
    "parallel_tool_agent",
    "racing_agent",
    "remote_agent_router",
    "remote_specialists",
    "support_tickets",
    "tool_router",
]

call_chaining_service = chaining_service()
tool_router = tool_router_service()
support_tickets = support_tickets_service()
agent_router = agent_router_service()
remote_agent_router = remote_agent_router_service()
remote_specialists = specialist_services()
parallel_tool_agent = parallel_tools_service()
parallel_agents = parallel_agents_service()
racing_agent = racing_service()
human_in_the_loop = human_in_the_loop_service()
human_in_the_loop_with_timeout = human_in_the_loop_with_timeout_service()
chat_session = chat_object()
booking_with_rollback_agent = saga_service()
evaluator_optimizer = evaluator_optimizer_service()
orchestrator = orchestrator_service()
manual_loop_agent = manual_loop_service()

DEFAULT_SERVICES: tuple[restate.Service | restate.VirtualObject, ...] = (
    call_chaining_service,
    tool_router,
    support_tickets,
    agent_router,
    remote_agent_router,
    *remote_specialists,
    parallel_tool_agent,
    parallel_agents,
    racing_agent,
    human_in_the_loop,
    human_in_the_loop_with_timeout,
    chat_session,
    booking_with_rollback_agent,
    evaluator_optimizer,
    orchestrator,
    manual_loop_agent,
)
"""Every default instance, in the order ``app`` serves them."""

app = restate.app(services=guard_inputs(DEFAULT_SERVICES))
