"""The benchmark agent on plain openai-agents ``Runner.run``: no Restate, no journal.

A bare ASGI app (``POST /run`` with the message as a JSON string, the answer back as one), served by
the same serve command as the durable variants, so the only difference is durability.
"""

from __future__ import annotations

from agents import Agent, ModelSettings, RunConfig, Runner, function_tool

from bench._agent_common import INSTRUCTIONS, MODEL, convert_body, time_body, weather_body
from bench._plain_asgi import runner_app


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return weather_body(city)


@function_tool
def get_time(city: str) -> str:
    """The local time in a city."""
    return time_body(city)


@function_tool
def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return convert_body(celsius)


agent = Agent(
    name="TravelAgent",
    instructions=INSTRUCTIONS,
    tools=[get_weather, get_time, convert_temperature],
    model_settings=ModelSettings(parallel_tool_calls=False),
)


async def run(message: str) -> str:
    result = await Runner.run(agent, message, run_config=RunConfig(model=MODEL))
    return str(result.final_output)


app = runner_app({"/run": run})
