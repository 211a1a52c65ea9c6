"""The benchmark agent on the restate-sdk's own ``restate.ext.openai.DurableRunner``, as its docs show."""

from __future__ import annotations

import restate
from agents import Agent, ModelSettings, RunConfig
from restate.ext.openai import DurableRunner, durable_function_tool, restate_context

from bench._agent_common import INSTRUCTIONS, MODEL, convert_body, time_body, weather_body


@durable_function_tool
async def get_weather(city: str) -> str:
    """The current weather in a city."""
    return await restate_context().run_typed("get weather", weather_body, city=city)


@durable_function_tool
async def get_time(city: str) -> str:
    """The local time in a city."""
    return await restate_context().run_typed("get time", time_body, city=city)


@durable_function_tool
async def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return await restate_context().run_typed("convert temperature", convert_body, celsius=celsius)


agent = Agent(
    name="TravelAgent",
    instructions=INSTRUCTIONS,
    tools=[get_weather, get_time, convert_temperature],
    model_settings=ModelSettings(parallel_tool_calls=False),
)
service = restate.Service("BenchPeer")


@service.handler()
async def run(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(agent, message, run_config=RunConfig(model=MODEL))
    return str(result.final_output)


app = restate.app([service])
