"""What the three served variants of the ADK benchmark agent share: the agent's shape and its model.

The task and the scripted model are the OpenAI benchmark's (``_agent_common``): 3 tools, 4 model
calls of ``MODEL_LATENCY`` each. ADK talks to the scripted OpenAI-compatible server through LiteLLM.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import restate
from google.adk.agents import LlmAgent
from google.adk.apps import App
from google.adk.models.lite_llm import LiteLlm
from google.adk.runners import Runner
from google.adk.sessions import BaseSessionService

from bench._agent_common import INSTRUCTIONS, convert_body, time_body, weather_body
from tests.apps.adk_common import final_text


def adk_agent(tools: list[Callable[..., Any]]) -> LlmAgent:
    model = LiteLlm(model="openai/gpt-4o", api_base=os.environ.get("OPENAI_BASE_URL"), api_key="sk-bench")
    return LlmAgent(name="travel_agent", model=model, instruction=INSTRUCTIONS, tools=list(tools))


def durable_object(name: str, app: App, sessions: BaseSessionService) -> restate.VirtualObject:
    """The Virtual Object ``name`` of a durable variant: ``run`` is one turn of ``app`` in the
    session ``ctx.key()`` (a new key per benchmark run: a new session), its final text the answer.
    The two durable variants differ only in the ``app``'s plugin and the session service."""
    service = restate.VirtualObject(name)

    @service.handler()
    async def run(ctx: restate.ObjectContext, message: str) -> str:
        runner = Runner(app=app, session_service=sessions, auto_create_session=True)
        return await final_text(runner, user_id=ctx.key(), session_id=ctx.key(), message=message)

    return service


# The tools as plain functions (the toolkit's variant and plain ADK; the peer journals each itself).
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return weather_body(city)


def get_time(city: str) -> str:
    """The local time in a city."""
    return time_body(city)


def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return convert_body(celsius)


PLAIN_TOOLS: list[Callable[..., Any]] = [get_weather, get_time, convert_temperature]
