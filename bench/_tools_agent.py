"""The agent of the ``tools`` part: one turn with 3 parallel tool calls, each waiting on an API.

The scripted model answers the first request with three function calls in one response, and the
request that carries their three results with the final text; each reply takes ``MODEL_LATENCY``.
Each tool awaits ``API_WAIT`` seconds, standing in for an HTTP API. The tools are plain
``@function_tool`` async functions with no Restate code in them: both the plain and the durable
variant run exactly these objects.

The API is an ``asyncio.sleep`` rather than a local HTTP endpoint: to the event loop an awaited
sleep is what an awaited response is (the task suspends, the others run), and it costs no CPU. A
local endpoint would add a server competing for this 2-core machine's CPUs, and a client's
connection-pool limits, to what the ratio measures: the toolkit's cost and whether the three waits
overlap.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agents import Agent, function_tool

from bench._agent_common import MODEL, MODEL_LATENCY, scripted_reply as peer_reply
from integrations.testing import ModelRequest, Reply, text, tool_calls

__all__ = ["ANSWER", "API_WAIT", "MESSAGE", "MODEL", "MODEL_LATENCY", "TOOL_CALLS", "agent", "scripted_reply"]

API_WAIT = 0.3  # seconds each tool waits on its "API"
MESSAGE = "Plan my afternoon in Detroit: weather, local time and the next flight to Chicago."
ANSWER = "Detroit: overcast, 3°C, 14:05 local time; next flight to Chicago DL 1234 at 16:10."
TOOL_CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_weather", {"city": "Detroit"}),
    ("get_time", {"city": "Detroit"}),
    ("next_flight", {"origin": "DTW", "destination": "ORD"}),
)


@function_tool
async def get_weather(city: str) -> str:
    """The current weather in a city."""
    await asyncio.sleep(API_WAIT)
    return f"{city}: overcast, 3°C"


@function_tool
async def get_time(city: str) -> str:
    """The local time in a city."""
    await asyncio.sleep(API_WAIT)
    return f"{city}: 14:05"


@function_tool
async def next_flight(origin: str, destination: str) -> str:
    """The next flight between two airports."""
    await asyncio.sleep(API_WAIT)
    return f"{origin}->{destination}: DL 1234 at 16:10"


agent: Agent[Any] = Agent(
    name="PlannerAgent",
    instructions="You plan trips. Use the tools for facts; call them all at once.",
    tools=[get_weather, get_time, next_flight],
)


def scripted_reply(request: ModelRequest) -> Reply:
    """Turn 1: the three calls in one response; turn 2 (their results are in): the answer.

    A request from the peer part's agent (served by the same processes, without ``next_flight``)
    gets that agent's script."""
    if "next_flight" not in request.tool_names():
        return peer_reply(request)
    if len(request.tool_outputs()) < len(TOOL_CALLS):
        return tool_calls(*TOOL_CALLS, delay=MODEL_LATENCY)
    return text(ANSWER, delay=MODEL_LATENCY)
