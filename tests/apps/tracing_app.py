"""One traced agent run: Triage hands off to WeatherAgent, which calls a journaled tool, then answers.

Tracing is switched on by the serve process (``DURABLE_AGENTS_OTEL=1``), not by this module.
"""

from __future__ import annotations

import restate
from agents import Agent, RunContextWrapper, function_tool, trace

from integrations.openai_agents import DurableRunner, raise_restate_errors
from tests.apps._support import record_effect, wait_for_gate


async def fetch_weather(city: str) -> str:
    record_effect(f"fetch:{city}")
    if city.startswith("Slow"):
        await wait_for_gate(city)
    record_effect(f"fetched:{city}")
    return f"{city}: 21.5 degrees, sunny"


@function_tool(failure_error_function=raise_restate_errors)
async def get_weather(wrapper: RunContextWrapper[restate.Context], city: str) -> str:
    """Get the current weather for a city."""
    return await wrapper.context.run_typed("Get weather", fetch_weather, city=city)


weather_agent = Agent[restate.Context](
    name="WeatherAgent", instructions="Answer weather questions.", model="gpt-4o", tools=[get_weather]
)
triage_agent = Agent[restate.Context](
    name="Triage", instructions="Hand weather questions to WeatherAgent.", model="gpt-4o", handoffs=[weather_agent]
)

traced = restate.Service("traced")


@traced.handler()
async def ask(ctx: restate.Context, message: str) -> str:
    # handler code runs on every attempt: this logs the traceparent Restate sent with each one
    record_effect(f"traceparent:{ctx.request().attempt_headers.get('traceparent', '')}")
    result = await DurableRunner.run(triage_agent, message, context=ctx)
    return str(result.final_output)


@traced.handler()
async def ask_streamed(ctx: restate.Context, message: str) -> str:
    record_effect(f"traceparent:{ctx.request().attempt_headers.get('traceparent', '')}")
    streamed = DurableRunner.run_streamed(triage_agent, message, context=ctx)
    async for _event in streamed.stream_events():
        pass
    return str(streamed.final_output)


_failed_once: set[str] = set()


@traced.handler()
async def ask_then_fail_once(ctx: restate.Context, message: str) -> str:
    """The run completes, then the attempt fails inside the workflow trace; Restate retries it."""
    record_effect(f"traceparent:{ctx.request().attempt_headers.get('traceparent', '')}")
    with trace("Agent workflow"):
        result = await DurableRunner.run(triage_agent, message, context=ctx)
        if ctx.request().id not in _failed_once:
            _failed_once.add(ctx.request().id)
            record_effect("failing-once")
            raise RuntimeError("transient failure after the run")
    return str(result.final_output)


app = restate.app([traced])
