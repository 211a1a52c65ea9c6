"""The agents a run can reach: what the runner prepares (MCP servers, guardrails) before it starts."""

from __future__ import annotations

from typing import Any

from agents.agent import AgentBase
from agents.handoffs import Handoff

__all__ = ["reachable_agents"]


def reachable_agents(agent: AgentBase) -> list[AgentBase]:
    """``agent`` and every agent it can hand off to or call as a tool, transitively (cycles allowed)."""
    found: dict[int, AgentBase] = {}
    pending: list[Any] = [agent]
    while pending:
        current = pending.pop()
        if not isinstance(current, AgentBase) or id(current) in found:
            continue
        found[id(current)] = current
        for handoff in getattr(current, "handoffs", None) or []:
            if isinstance(handoff, Handoff):
                reference = handoff._agent_ref
                pending.append(reference() if reference is not None else None)
            else:
                pending.append(handoff)
        for tool in current.tools:
            pending.append(getattr(tool, "_agent_instance", None))
    return list(found.values())
