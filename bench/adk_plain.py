"""The ADK benchmark agent on plain ADK: ``Runner`` with the in-memory session service, no Restate."""

from __future__ import annotations

import uuid

from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService

from bench._adk_common import adk_agent, answer
from bench._agent_common import convert_body, time_body, weather_body
from bench._plain_asgi import runner_app


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return weather_body(city)


def get_time(city: str) -> str:
    """The local time in a city."""
    return time_body(city)


def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return convert_body(celsius)


runner = Runner(
    app_name="bench",
    agent=adk_agent([get_weather, get_time, convert_temperature]),
    session_service=InMemorySessionService(),
    auto_create_session=True,
)


async def run(message: str) -> str:
    session = uuid.uuid4().hex
    return await answer(runner, session, session, message)


app = runner_app({"/run": run})
