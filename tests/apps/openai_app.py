"""The quickstart/tour user code from the issue, verbatim where possible, plus test scenarios."""

from __future__ import annotations

from typing import Any

import restate
from agents import Agent, ModelSettings, RunConfig, RunContextWrapper, Runner, function_tool
from agents.extensions.models.litellm_model import LitellmModel
from pydantic import BaseModel
from restate import ObjectContext, ObjectSharedContext, VirtualObject

from integrations.budget import token_budget
from integrations.openai_agents import (
    DurableModel,
    DurableModelCalls,
    DurableRunner,
    RestateSession,
    durable_function_tool,
    raise_restate_errors,
)
from tests.apps._support import record_effect, wait_for_gate


class WeatherRequest(BaseModel):
    city: str


class WeatherResponse(BaseModel):
    city: str
    temperature: float
    description: str


_attempts: dict[str, int] = {}


async def fetch_weather(city: str) -> WeatherResponse:
    record_effect(f"fetch:{city}")
    if city.startswith("Flaky"):  # fails on its first attempt in this process
        _attempts[city] = _attempts.get(city, 0) + 1
        if _attempts[city] == 1:
            raise RuntimeError("weather API hiccup")
    if city.startswith("Slow"):
        await wait_for_gate(city)
    if city.startswith("Doom"):
        raise restate.TerminalError(f"unknown city {city}", 404)
    record_effect(f"fetched:{city}")
    return WeatherResponse(city=city, temperature=21.5, description="sunny")


@function_tool(failure_error_function=raise_restate_errors)
async def get_weather(wrapper: RunContextWrapper[restate.Context], req: WeatherRequest) -> WeatherResponse:
    """Get the current weather for a given city."""
    return await wrapper.context.run_typed("Get weather", fetch_weather, city=req.city)


@function_tool(failure_error_function=raise_restate_errors)
async def request_approval(wrapper: RunContextWrapper[restate.Context], claim: str) -> str:
    """Ask a human to approve a claim; waits durably for the answer."""
    ctx = wrapper.context
    awakeable_id, promise = ctx.awakeable(type_hint=str)
    await ctx.run_typed("announce approval", _announce, awakeable_id=awakeable_id)
    return await promise


async def _announce(awakeable_id: str) -> None:
    record_effect(f"awakeable:{awakeable_id}")


weather_agent = Agent[restate.Context](
    name="WeatherAgent",
    instructions="You are a helpful agent that provides weather updates.",
    tools=[get_weather],
)
approval_agent = Agent[restate.Context](
    name="ClaimsAgent", instructions="Get approval for claims.", tools=[request_approval]
)

agent_service = restate.Service("agent")


@agent_service.handler()
async def run(restate_context: restate.Context, message: str) -> str:
    try:
        result = await Runner.run(
            weather_agent,
            input=message,
            context=restate_context,
            run_config=RunConfig(
                model="gpt-4o",
                model_provider=DurableModelCalls(restate_context),
                model_settings=ModelSettings(parallel_tool_calls=False),
            ),
        )
    except restate.TerminalError as err:
        record_effect(f"handler-caught-terminal:{err.message}")
        raise
    return result.final_output_as(str)


@agent_service.handler()
async def approve(restate_context: restate.Context, message: str) -> str:
    result = await DurableRunner.run(approval_agent, message, context=restate_context)
    return result.final_output_as(str)


# --- parallel tools: two multi-step tools in one model turn ------------------------------------
async def _step(label: str) -> str:
    record_effect(label)
    return label


@function_tool(failure_error_function=raise_restate_errors)
async def lookup_a(wrapper: RunContextWrapper[restate.Context], topic: str) -> str:
    """Look up A."""
    ctx = wrapper.context
    first = await ctx.run_typed("a1", _step, label=f"a1:{topic}")
    second = await ctx.run_typed("a2", _step, label=f"a2:{topic}")
    return first + "+" + second


@durable_function_tool(journal=True)
async def lookup_b(topic: str) -> str:
    """Look up B (the whole body is one journaled step)."""
    record_effect(f"b:{topic}")
    return f"b:{topic}"


parallel_agent = Agent[restate.Context](name="Parallel", instructions="Use both tools.", tools=[lookup_a, lookup_b])


@agent_service.handler()
async def parallel(restate_context: restate.Context, message: str) -> str:
    result = await DurableRunner.run(
        parallel_agent,
        message,
        context=restate_context,
        run_config=RunConfig(model="gpt-4o", model_settings=ModelSettings(parallel_tool_calls=True)),
    )
    return result.final_output_as(str)


@agent_service.handler()
async def budgeted(restate_context: restate.Context, message: str) -> str:
    result = await DurableRunner.run(
        weather_agent, message, context=restate_context, token_budget=token_budget(restate_context, 20, "weather")
    )
    return result.final_output_as(str)


# --- cyclic handoffs --------------------------------------------------------------------------
triage = Agent[restate.Context](name="Triage", instructions="Route the user.")
billing = Agent[restate.Context](name="Billing", instructions="Billing questions.", handoffs=[triage])
triage.handoffs = [billing]


@agent_service.handler()
async def handoffs(restate_context: restate.Context, message: str) -> dict[str, Any]:
    result = await DurableRunner.run(triage, message, context=restate_context, max_turns=8)
    return {"output": result.final_output, "last_agent": result.last_agent.name}


# --- streaming --------------------------------------------------------------------------------
@agent_service.handler()
async def stream(restate_context: restate.Context, message: str) -> dict[str, Any]:
    streamed = DurableRunner.run_streamed(weather_agent, message, context=restate_context)
    deltas: list[str] = []
    async for event in streamed.stream_events():
        if event.type == "raw_response_event" and event.data.type == "response.output_text.delta":
            deltas.append(event.data.delta)
    return {"output": streamed.final_output, "deltas": deltas}


# --- model instances on agents --------------------------------------------------------------------
litellm_agent = Agent[restate.Context](
    name="LiteAgent", instructions="Be brief.", model=DurableModel(LitellmModel(model="openai/gpt-4o-mini"))
)
raw_litellm_agent = Agent[restate.Context](
    name="RawLiteAgent", instructions="Be brief.", model=LitellmModel(model="openai/gpt-4o-mini")
)


@agent_service.handler()
async def litellm_instance(restate_context: restate.Context, message: str) -> str:
    result = await Runner.run(litellm_agent, message, context=restate_context)
    return result.final_output_as(str)


@agent_service.handler()
async def litellm_name(restate_context: restate.Context, message: str) -> str:
    result = await Runner.run(
        Agent(name="LiteByName", instructions="Be brief."),
        message,
        context=restate_context,
        run_config=RunConfig(model="litellm/openai/gpt-4o-mini", model_provider=DurableModelCalls(restate_context)),
    )
    return result.final_output_as(str)


@agent_service.handler()
async def raw_instance(restate_context: restate.Context, message: str) -> str:
    result = await DurableRunner.run(raw_litellm_agent, message, context=restate_context)
    return result.final_output_as(str)


# --- the tour's chat object, verbatim ------------------------------------------------------------
class ChatMessage(BaseModel):
    message: str


chat = VirtualObject("Chat")


@chat.handler()
async def message(restate_context: ObjectContext, chat_message: ChatMessage) -> dict[str, Any]:
    restate_session = await RestateSession.create(session_id=restate_context.key(), ctx=restate_context)
    result = await Runner.run(
        Agent(name="Assistant", instructions="You are a helpful assistant."),
        input=chat_message.message,
        run_config=RunConfig(model="gpt-4o", model_provider=DurableModelCalls(restate_context)),
        session=restate_session,
    )
    return result.final_output_as(dict)


@chat.handler(kind="shared")
async def get_history(ctx: ObjectSharedContext) -> list[Any]:
    return await ctx.get("items") or []


long_chat = VirtualObject("LongChat")


@long_chat.handler()
async def say(ctx: ObjectContext, chat_message: ChatMessage) -> str:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx, layout="append")
    result = await DurableRunner.run(
        Agent(name="Assistant", instructions="You are a helpful assistant."),
        chat_message.message,
        context=ctx,
        run_config=RunConfig(model="gpt-4o"),
        session=session,
    )
    return result.final_output_as(str)


@long_chat.handler(kind="shared")
async def history(ctx: ObjectSharedContext) -> list[Any]:
    return await RestateSession.history(ctx, layout="append")


app = restate.app([agent_service, chat, long_chat])
