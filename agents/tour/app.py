"""Every service of the Restate docs' "Tour of Agents with the OpenAI Agents SDK", in one app.

    ./dev up tour                                         # restate-server + this app, registered
    python -m integrations.runtime.serve agents/tour/app.py:app --port 9080   # the app alone

The same port serves the chat page (``http://localhost:9080/chat/``) and the live event streams
(``/events/<topic>``) next to the Restate endpoint: see ``integrations.streams.with_events``.

This is the tour's ``__main__.py``. Its ``app/`` package is ``tour_of_agents/`` here, loaded by
file path: ``agents/`` must not be a package (the OpenAI Agents SDK owns ``import agents``), so
this file registers the folder next to it as the package ``tour_of_agents`` instead of relying
on ``sys.path``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import restate

from integrations.inputs import guard_inputs
from integrations.streams import agent_events, with_events


def _load_package(name: str, folder: Path) -> ModuleType:
    """Import ``folder`` as package ``name``; its modules then import each other relatively."""
    loaded = sys.modules.get(name)
    if loaded is not None:
        if list(getattr(loaded, "__path__", [])) != [str(folder)]:
            raise ImportError(f"a different {name!r} is already imported from {loaded.__path__}")
        return loaded
    spec = importlib.util.spec_from_file_location(
        name, folder / "__init__.py", submodule_search_locations=[str(folder)]
    )
    assert spec is not None and spec.loader is not None
    package = importlib.util.module_from_spec(spec)
    sys.modules[name] = package
    spec.loader.exec_module(package)
    return package


_load_package("tour_of_agents", Path(__file__).resolve().parent / "tour_of_agents")

# Import all tour agents
from tour_of_agents.advanced.manual_loop_agent import manual_loop_agent
from tour_of_agents.advanced.rollback_agent import agent_service as booking_with_rollback_agent
from tour_of_agents.chat import chat
from tour_of_agents.durable_agent import agent_service as weather_agent
from tour_of_agents.human_approval_agent import agent_service as human_claim_approval_agent
from tour_of_agents.human_approval_agent_with_timeout import (
    agent_service as human_claim_approval_with_timeouts_agent,
)
from tour_of_agents.multi_agent import agent_service as multi_agent_claim_approval
from tour_of_agents.multi_agent_remote import agent_service as remote_multi_agent_claim_approval
from tour_of_agents.parallel_agents import agent_service as parallel_agent_claim_approval
from tour_of_agents.parallel_tools_agent import agent_service as parallel_tool_claim_agent
from tour_of_agents.sub_workflow_agent import (
    agent_service as sub_workflow_claim_approval_agent,
    human_approval_workflow,
)
from tour_of_agents.utils.utils import (
    eligibility_agent_service,
    fraud_agent_service,
    rate_comparison_agent_service,
)

services: list[restate.Service | restate.VirtualObject | restate.Workflow] = [
    # Durable execution
    weather_agent,
    # Human-in-the-loop
    human_claim_approval_agent,
    human_claim_approval_with_timeouts_agent,
    # Sessions
    chat,
    # Orchestration
    sub_workflow_claim_approval_agent,
    human_approval_workflow,
    multi_agent_claim_approval,
    remote_multi_agent_claim_approval,
    # Parallel work
    parallel_tool_claim_agent,
    parallel_agent_claim_approval,
    # Advanced patterns
    manual_loop_agent,
    booking_with_rollback_agent,
    # The specialist agents the remote and parallel chapters call
    fraud_agent_service,
    eligibility_agent_service,
    rate_comparison_agent_service,
]

# The topic object the Chat streams to, and the chat page + /events/<topic> on the same port.
# An empty body reads as {} (the tour's default message); bad bodies fail at once with a 4xx.
app = with_events(restate.app(services=guard_inputs([*services, agent_events])))
