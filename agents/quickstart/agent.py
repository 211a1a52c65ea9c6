"""The quickstart weather agent: plain OpenAI Agents SDK code, made durable by Restate.

    curl localhost:8080/agent/run --json '"What is the weather in Detroit?"'

Every model call is a journaled step (``DurableModelCalls``) and the weather fetch is a journaled
``ctx.run_typed`` step, so a crash or a failing API never repeats finished work.
"""

from __future__ import annotations

import os

import httpx
import restate
from agents import Agent, ModelSettings, RunConfig, RunContextWrapper, Runner, function_tool
from pydantic import BaseModel

from integrations.inputs import guard_inputs
from integrations.openai_agents import DurableModelCalls, raise_restate_errors

MODEL = os.environ.get("AGENT_MODEL", "gpt-4o")


class WeatherRequest(BaseModel):
    city: str


class WeatherResponse(BaseModel):
    city: str
    temperature_celsius: float
    description: str
    source: str


# Offline answers, used when the live weather service cannot be reached (or WEATHER_OFFLINE=1).
OFFLINE_WEATHER = {
    "detroit": (3.0, "overcast"),
    "denver": (8.0, "clear and windy"),
    "paris": (11.0, "light rain"),
    "tokyo": (14.0, "sunny"),
}
OFFLINE_SOURCE = "offline sample data (no weather service reachable): not real weather"


def fail_on_denver(city: str) -> None:
    """Demo of durable retries: a Denver request fails and Restate retries it with backoff,
    without calling the model again. Remove this call in ``fetch_weather`` and restart the
    service: the stuck invocation then completes."""
    if city.strip().lower() == "denver":
        raise RuntimeError("[simulated] the weather API is down for Denver; Restate keeps retrying")


async def fetch_weather(city: str) -> WeatherResponse:
    fail_on_denver(city)
    if os.environ.get("WEATHER_OFFLINE") != "1":
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get(f"https://wttr.in/{city}", params={"format": "j1"})
                response.raise_for_status()
                current = response.json()["current_condition"][0]
            return WeatherResponse(
                city=city,
                temperature_celsius=float(current["temp_C"]),
                description=current["weatherDesc"][0]["value"],
                source="wttr.in",
            )
        except (httpx.HTTPError, KeyError, IndexError, ValueError):
            pass  # unreachable or malformed: fall back to the labelled offline data
    temperature, description = OFFLINE_WEATHER.get(city.strip().lower(), (18.0, "mild and dry"))
    return WeatherResponse(city=city, temperature_celsius=temperature, description=description, source=OFFLINE_SOURCE)


@function_tool(failure_error_function=raise_restate_errors)
async def get_weather(wrapper: RunContextWrapper[restate.Context], req: WeatherRequest) -> WeatherResponse:
    """Get the current weather for a given city."""
    return await wrapper.context.run_typed("Get weather", fetch_weather, city=req.city)


weather_agent = Agent[restate.Context](
    name="WeatherAgent",
    instructions="You are a helpful agent that provides weather updates. Mention the data source.",
    tools=[get_weather],
)

agent_service = restate.Service("agent")


@agent_service.handler()
async def run(restate_context: restate.Context, message: str) -> str:
    if not isinstance(message, str) or not message.strip():
        # Restate does not check a plain `str` input; without this, bad input would retry forever.
        raise restate.TerminalError(
            'expected the question as a non-empty JSON string, e.g. "What is the weather in Detroit?"', 400
        )
    result = await Runner.run(
        weather_agent,
        input=message,
        context=restate_context,
        run_config=RunConfig(
            model=MODEL,
            model_provider=DurableModelCalls(restate_context),
            model_settings=ModelSettings(parallel_tool_calls=False),
        ),
    )
    return result.final_output


app = restate.app(guard_inputs([agent_service]))  # bad or oversized bodies: a 4xx at once
