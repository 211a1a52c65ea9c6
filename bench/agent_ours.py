"""The benchmark agent on this toolkit's ``DurableRunner`` (served like any deployment)."""

from __future__ import annotations

import os

import restate
from agents import Agent, ModelSettings, RunConfig

from bench._agent_common import INSTRUCTIONS, MODEL, convert_body, time_body, weather_body
from integrations.openai_agents import DurableRunner, durable_function_tool


@durable_function_tool(journal=True)
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return weather_body(city)


@durable_function_tool(journal=True)
def get_time(city: str) -> str:
    """The local time in a city."""
    return time_body(city)


@durable_function_tool(journal=True)
def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return convert_body(celsius)


agent = Agent[restate.Context](
    name="TravelAgent",
    instructions=INSTRUCTIONS,
    tools=[get_weather, get_time, convert_temperature],
    model_settings=ModelSettings(parallel_tool_calls=False),
)
service = restate.Service(os.environ.get("BENCH_SERVICE", "BenchOurs"))  # a second deployment needs a second name


@service.handler()
async def run(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(agent, message, context=ctx, run_config=RunConfig(model=MODEL))
    return str(result.final_output)


app = restate.app([service])
