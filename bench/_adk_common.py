"""What the three served variants of the ADK benchmark agent share: the agent's shape and its model.

The task and the scripted model are the OpenAI benchmark's (``_agent_common``): 3 tools, 4 model
calls of ``MODEL_LATENCY`` each. ADK talks to the scripted OpenAI-compatible server through LiteLLM.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.models.lite_llm import LiteLlm
from google.adk.runners import Runner
from google.genai import types

from bench._agent_common import INSTRUCTIONS, convert_body, time_body, weather_body


def adk_agent(tools: list[Callable[..., Any]]) -> LlmAgent:
    model = LiteLlm(model="openai/gpt-4o", api_base=os.environ.get("OPENAI_BASE_URL"), api_key="sk-bench")
    return LlmAgent(name="travel_agent", model=model, instruction=INSTRUCTIONS, tools=list(tools))


async def answer(runner: Runner, user_id: str, session_id: str, message: str) -> str:
    """Run one turn and return the final text."""
    texts: list[str] = []
    async for event in runner.run_async(
        user_id=user_id,
        session_id=session_id,
        new_message=types.Content(role="user", parts=[types.Part(text=message)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            texts.extend(part.text for part in event.content.parts if part.text)
    return "".join(texts)


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
