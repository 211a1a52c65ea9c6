"""Steps whose output may be too large for the journal: a journaled tool, a model call through the
Agents SDK adapter, an ``llm_call`` step, and a plain ``ctx.run`` without the toolkit's check."""

from __future__ import annotations

import restate
from agents import Agent, RunConfig, Runner
from restate import RunOptions

from integrations.litellm import llm_call
from integrations.openai_agents import DurableModelCalls, durable_function_tool
from tests.apps._support import record_effect


@durable_function_tool(journal=True)
async def fetch_report(size: int) -> str:
    """Fetch the report, ``size`` bytes of it."""
    record_effect(f"fetch_report:{size}")
    return "r" * size


reader = Agent(name="Reader", instructions="Fetch the report the user asks for.", tools=[fetch_report])

oversized = restate.Service("Oversized")


@oversized.handler()
async def agent_run(ctx: restate.Context, message: str) -> str:
    result = await Runner.run(
        reader, input=message, run_config=RunConfig(model="gpt-4o", model_provider=DurableModelCalls(ctx))
    )
    return str(result.final_output)[:100]


@oversized.handler()
async def llm(ctx: restate.Context, message: str) -> str:
    response = await ctx.run_typed("LLM call", llm_call, RunOptions(max_attempts=3), messages=message)
    return (response.content or "")[:100]


@oversized.handler()
async def raw_step(ctx: restate.Context, size: int) -> int:
    """What happens without the toolkit's check: the server refuses the message, and retries."""

    async def produce() -> str:
        record_effect(f"produce:{size}")
        return "x" * size

    return len(await ctx.run_typed("produce", produce))


app = restate.app([oversized])
