"""Retry control in both adapters: model steps with a per-attempt timeout, and a journaled tool that
tells the model when its attempts run out."""

from __future__ import annotations

from datetime import timedelta

import restate
from agents import Agent, RunConfig, Runner
from agents.items import ToolCallOutputItem
from pydantic import BaseModel

from integrations.litellm import llm_call
from integrations.openai_agents import DurableModelCalls, StepRetry, durable_function_tool
from integrations.retry import model_step
from tests.apps._support import record_effect

ATTEMPT_TIMEOUT = timedelta(seconds=1)
"""Short: a hung attempt is cut off after this long (the scripted reply hangs for good)."""


class Ask(BaseModel):
    message: str
    max_attempts: int = 3


def _retry(ask: Ask) -> StepRetry:
    return StepRetry(
        max_attempts=ask.max_attempts,
        attempt_timeout=ATTEMPT_TIMEOUT,
        initial_retry_interval=timedelta(milliseconds=100),
        retry_interval_factor=2,
        max_retry_interval=timedelta(seconds=1),
        max_duration=timedelta(minutes=5),
    )


# --- OpenAI Agents SDK: DurableModelCalls(ctx, retry=StepRetry(...)) ------------------------------
agents_service = restate.Service("RetryAgents")


@agents_service.handler()
async def ask(ctx: restate.Context, req: Ask) -> str:
    result = await Runner.run(
        Agent(name="Assistant", instructions="Be brief."),
        req.message,
        context=ctx,
        run_config=RunConfig(model="gpt-4o", model_provider=DurableModelCalls(ctx, retry=_retry(req))),
    )
    return result.final_output_as(str)


@durable_function_tool(journal=True, max_attempts=2, on_exhausted="tell_model")
async def check_stock(sku: str) -> str:
    """Look up how many items of ``sku`` are in stock."""
    record_effect(f"check_stock:{sku}")
    if sku.startswith("gone"):
        raise restate.TerminalError(f"sku {sku} was discontinued", 404)
    raise RuntimeError(f"inventory API down for {sku}")


stock_agent = Agent[restate.Context](name="Stock", instructions="Answer stock questions.", tools=[check_stock])


class StockAnswer(BaseModel):
    answer: str
    tool_outputs: list[str]
    """The tool outputs the SDK got in this execution (a replay, on an always-replay server)."""


@agents_service.handler()
async def stock(ctx: restate.Context, message: str) -> StockAnswer:
    result = await Runner.run(
        stock_agent,
        message,
        context=ctx,
        run_config=RunConfig(model="gpt-4o", model_provider=DurableModelCalls(ctx)),
    )
    outputs = [str(item.output) for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    return StockAnswer(answer=result.final_output, tool_outputs=outputs)


# --- LiteLLM: model_step(ctx, "LLM call", llm_call, StepRetry(...), ...) ---------------------------
litellm_service = restate.Service("RetryLitellm")


@litellm_service.handler("ask")
async def litellm_ask(ctx: restate.Context, req: Ask) -> str:
    response = await model_step(ctx, "LLM call", llm_call, _retry(req), messages=req.message)
    return response.content or ""


app = restate.app([agents_service, litellm_service])
