"""The ADK benchmark agent on the restate-sdk's own ``restate.ext.adk``, as its docs show: the
``RestatePlugin``, its session service, and tools that journal their bodies with ``ctx.run``."""

from __future__ import annotations

import restate
from google.adk.apps import App
from restate.ext.adk import RestatePlugin, RestateSessionService, restate_context

from bench._adk_common import adk_agent, durable_object
from bench._agent_common import convert_body, time_body, weather_body


async def get_weather(city: str) -> str:
    """The current weather in a city."""
    return await restate_context().run_typed("get weather", weather_body, city=city)


async def get_time(city: str) -> str:
    """The local time in a city."""
    return await restate_context().run_typed("get time", time_body, city=city)


async def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return await restate_context().run_typed("convert temperature", convert_body, celsius=celsius)


app_ = App(name="bench", root_agent=adk_agent([get_weather, get_time, convert_temperature]), plugins=[RestatePlugin()])
app = restate.app([durable_object("BenchAdkPeer", app_, RestateSessionService())])
