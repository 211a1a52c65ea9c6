"""The Google ADK quickstart: a plain ADK weather agent, made durable by Restate.

    curl localhost:8080/AdkWeather/alice/run --json '"What is the weather in Detroit?"'

``DurablePlugin`` journals every model call and runs ``get_weather`` (a plain function) as one
journaled step: a crash, a restart or a failing API never repeats finished work or re-pays the
model. ``RestateSessionService`` keeps the conversation in the Virtual Object's state, one session
per key (``alice`` above), so a second question remembers the first.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
import restate
from google.adk.agents import LlmAgent
from google.adk.apps import App
from google.adk.models.lite_llm import LiteLlm
from google.adk.runners import Runner
from google.genai import types

from integrations.google_adk import DurablePlugin, RestateSessionService
from integrations.inputs import guard_inputs

# ADK reaches OpenAI-compatible endpoints through LiteLLM; ADK_MODEL=gemini-2.5-flash (with
# GOOGLE_API_KEY) uses Gemini instead.
MODEL = os.environ.get("ADK_MODEL", "openai/gpt-4o")

# Offline answers, used when the live weather service cannot be reached (or WEATHER_OFFLINE=1).
OFFLINE_WEATHER = {
    "detroit": (3.0, "overcast"),
    "paris": (11.0, "light rain"),
    "tokyo": (14.0, "sunny"),
}
OFFLINE_SOURCE = "offline sample data (no weather service reachable): not real weather"


async def get_weather(city: str) -> dict[str, Any]:
    """Get the current weather for a given city."""
    if os.environ.get("WEATHER_OFFLINE") != "1":
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(f"https://wttr.in/{city}", params={"format": "j1"})
                response.raise_for_status()
                current = response.json()["current_condition"][0]
            return {
                "city": city,
                "temperature_celsius": float(current["temp_C"]),
                "description": current["weatherDesc"][0]["value"],
                "source": "wttr.in",
            }
        except (httpx.HTTPError, KeyError, IndexError, ValueError):
            pass  # unreachable or malformed: fall back to the labelled offline data
    temperature, description = OFFLINE_WEATHER.get(city.strip().lower(), (18.0, "mild and dry"))
    return {"city": city, "temperature_celsius": temperature, "description": description, "source": OFFLINE_SOURCE}


def _model() -> LiteLlm | str:
    if MODEL.startswith("gemini"):
        return MODEL  # ADK's own Gemini client
    return LiteLlm(model=MODEL, api_base=os.environ.get("OPENAI_BASE_URL") or None)


weather_agent = LlmAgent(
    name="weather_agent",
    model=_model(),
    instruction="You are a helpful agent that provides weather updates. Mention the data source.",
    tools=[get_weather],
)

adk_app = App(name="adk_quickstart", root_agent=weather_agent, plugins=[DurablePlugin()])
sessions = RestateSessionService()

agent = restate.VirtualObject("AdkWeather")


@agent.handler()
async def run(ctx: restate.ObjectContext, message: str) -> str:
    """Answer ``message`` in the conversation ``ctx.key()``."""
    if not message.strip():
        raise restate.TerminalError('expected the question as a non-empty JSON string, e.g. "Weather in Paris?"', 400)
    runner = Runner(app=adk_app, session_service=sessions, auto_create_session=True)
    answer: list[str] = []
    async for event in runner.run_async(
        user_id=ctx.key(),
        session_id=ctx.key(),
        new_message=types.Content(role="user", parts=[types.Part(text=message)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            answer.extend(part.text for part in event.content.parts if part.text)
    return "\n".join(answer)


app = restate.app(guard_inputs([agent]))  # bad or oversized bodies: a 4xx at once
