"""Chapter "durable agent": a weather agent whose model calls and tool steps are journaled.

    curl localhost:8080/WeatherAgent/run --json '{"message": "What is the weather like in San Francisco?"}'

Ask about Denver to see the retries: ``fail_on_denver`` in ``utils/utils.py`` makes the
``Get weather`` step fail, and Restate retries it (without asking the model again) until you
remove that line and restart the service.
"""

from __future__ import annotations

import restate
from agents import Agent, ModelSettings, RunConfig, RunContextWrapper, Runner, function_tool

from integrations.openai_agents import DurableModelCalls, raise_restate_errors

from .utils.models import MODEL, WeatherPrompt, WeatherRequest, WeatherResponse
from .utils.utils import fetch_weather


@function_tool(failure_error_function=raise_restate_errors)
async def get_weather(wrapper: RunContextWrapper[restate.Context], req: WeatherRequest) -> WeatherResponse:
    """Get the current weather for a given city."""
    # The run context is the Restate context: use it for journaled steps
    restate_context = wrapper.context
    return await restate_context.run_typed("Get weather", fetch_weather, city=req.city)


weather_agent = Agent[restate.Context](
    name="WeatherAgent",
    instructions="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)


agent_service = restate.Service("WeatherAgent")


@agent_service.handler()
async def run(restate_context: restate.Context, prompt: WeatherPrompt) -> str:
    result = await Runner.run(
        weather_agent,
        input=prompt.message,
        # Tools receive the Restate context through the run context
        context=restate_context,
        # Every model response is journaled, so a retry never asks the model twice
        run_config=RunConfig(
            model=MODEL,
            model_provider=DurableModelCalls(restate_context),
            model_settings=ModelSettings(parallel_tool_calls=False),
        ),
    )
    return result.final_output
