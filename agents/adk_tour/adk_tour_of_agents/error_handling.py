"""Error handling: bounded retries, and a terminal error the handler turns into an answer.

Try it: the "error handling" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

The weather agent of ``durable_agent`` with limits: model calls and the ``get_weather`` step get 3
attempts, a second apart. Denver's simulated outage exhausts them; the step then fails with a
``TerminalError``, which ADK's tool error handling passes on (no ``on_tool_error_callback`` answers
it), and the handler catches it and answers politely instead of failing. Each run is a fresh
session: a run that ended half-way must not leave its unanswered tool call in a stored conversation.
"""

from __future__ import annotations

from datetime import timedelta

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

# Retries of model calls and of tool steps: 3 attempts, the first retry after a second
retries = StepRetry(max_attempts=3, initial_retry_interval=timedelta(seconds=1))
app = durable_app("error_handling", agent, retry=retries, tool_retry=retries)

agent_service = restate.VirtualObject("ErrorHandlingAgent")


@agent_service.handler()
async def run(ctx: restate.ObjectContext, req: WeatherPrompt) -> str:
    try:
        sessions = fresh_sessions()
        return await run_agent(app, req.message, user_id=ctx.key(), session_id=req.session_id, sessions=sessions)
    except restate.TerminalError:
        # Handle the error: log it, compensate, or answer with a default response
        return "Sorry, I'm unable to process your request at the moment."
