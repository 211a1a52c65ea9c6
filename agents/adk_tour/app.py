"""Every service of the Restate docs' "Tour of Agents with Google ADK", in one app, on our adapter.

    ./dev up adk_tour                                          # restate-server + this app, registered
    python -m integrations.runtime.serve agents/adk_tour/app.py:app --port 9080   # the app alone

The chapters follow restatedev/ai-examples ``google-adk/tour-of-agents/app/`` (service names,
handlers, payloads), written for ``integrations.google_adk`` (``DurablePlugin``,
``RestateSessionService``) instead of ``restate.ext.adk``. Its ``app/`` package is
``adk_tour_of_agents/`` here; ``agents/`` is no package (the OpenAI Agents SDK owns ``import
agents``), so this folder is put on ``sys.path`` (``serve`` does it too) and the package imported
by its own, tour-specific name.
"""

from __future__ import annotations

import sys
from pathlib import Path

import restate

from integrations.inputs import guard_inputs

if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

from adk_tour_of_agents import (  # after the path is set
    chat_agent,
    durable_agent,
    error_handling,
    human_approval_agent,
    human_approval_agent_with_timeout,
    multi_agent,
    parallel_agents,
    parallel_tools_agent,
    remote_agents,
    rollback_agent,
    specialists,
    sub_workflow_agent,
)

services: list[restate.Service | restate.VirtualObject] = [
    # Durable execution
    durable_agent.agent_service,
    # Human-in-the-loop
    human_approval_agent.agent_service,
    human_approval_agent_with_timeout.agent_service,
    # Sessions
    chat_agent.chat,
    # Orchestration
    sub_workflow_agent.agent_service,
    sub_workflow_agent.human_approval_workflow,
    multi_agent.agent_service,
    remote_agents.agent_service,
    # Parallel work
    parallel_tools_agent.agent_service,
    parallel_agents.agent_service,
    # Error handling
    error_handling.agent_service,
    rollback_agent.agent_service,
    # The specialist agents the remote and parallel chapters call
    *specialists.services,
]

app = restate.app(services=guard_inputs(services))  # bad bodies: a 4xx at once; {} reads as the defaults
