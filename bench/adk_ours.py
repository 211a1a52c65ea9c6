"""The ADK benchmark agent on this toolkit: ``DurablePlugin`` + ``RestateSessionService``, plain tools."""

from __future__ import annotations

import restate
from google.adk.apps import App
from google.adk.runners import Runner

from bench._adk_common import adk_agent, answer
from bench._agent_common import convert_body, time_body, weather_body
from integrations.google_adk import DurablePlugin, RestateSessionService


def get_weather(city: str) -> str:
    """The current weather in a city."""
    return weather_body(city)


def get_time(city: str) -> str:
    """The local time in a city."""
    return time_body(city)


def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return convert_body(celsius)


app_ = App(name="bench", root_agent=adk_agent([get_weather, get_time, convert_temperature]), plugins=[DurablePlugin()])
sessions = RestateSessionService()
service = restate.VirtualObject("BenchAdkOurs")


@service.handler()
async def run(ctx: restate.ObjectContext, message: str) -> str:
    runner = Runner(app=app_, session_service=sessions, auto_create_session=True)
    return await answer(runner, ctx.key(), ctx.key(), message)


app = restate.app([service])
