"""Durable execution: a weather agent whose model calls and tool call are journaled.

Try it: the "durable agent" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

``get_weather`` is a plain function: ``DurablePlugin`` journals each call as one step
(``Tool: get_weather``), so a retry or a crash never runs it twice or asks the model again. Ask for
Denver and the tool fails like a down weather API: Restate retries the step (no limit here) until
you delete ``fail_on_denver(city)`` from ``utils.get_weather`` and restart the service; the
journaled model call is not paid again.
"""

from __future__ import annotations

import restate
from google.adk.agents import LlmAgent

from integrations.google_adk import StepRetry

from .utils import WeatherPrompt, durable_app, fresh_sessions, get_weather, model, run_agent

agent = LlmAgent(
    model=model(),
    name="weather_agent",
    instruction="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)

# max_attempts=None: a failing weather API is retried until it answers (or someone fixes the code)
app = durable_app("weather", agent, tool_retry=StepRetry(max_attempts=None))

agent_service = restate.Service("WeatherAgent")


@agent_service.handler()
async def run(ctx: restate.Context, req: WeatherPrompt) -> str:
    """A stateless service: one fresh ADK session per invocation."""
    return await run_agent(app, req.message, user_id=req.user_id, session_id=req.session_id, sessions=fresh_sessions())
