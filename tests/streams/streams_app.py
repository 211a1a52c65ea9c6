"""Served by the streams tests: agents that publish their runs to topics, and topic objects.

- ``StreamingAgent/run``: one agent with a weather tool; ``api`` picks Responses or Chat
  Completions streaming, or ``runner``/``streamed``: ``DurableRunner.run(..., events=...)`` /
  ``DurableRunner.run_streamed(..., events=...)`` instead of the provider form; ``object_name``
  the topic object (``SmallEvents`` keeps only 7 events); ``noted`` gives the agent a tool that
  publishes a custom event through ``current_publisher``.
- ``WireAgent/wire``: a ``needs_approval`` tool under ``DurableRunner.run(..., events=...)``.
- ``ApprovalChat/<key>``: a chat run by ``DurableRunner.run(..., events=...)`` whose
  ``transfer_money`` tool waits for a person via ``await_approval(ctx, question)`` (the run's own
  publisher); the chat page serves it next to nothing else.
"""

from __future__ import annotations

from typing import Any, Literal

import restate
from agents import Agent, RunConfig, RunContextWrapper, Runner, function_tool
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from openai import AsyncOpenAI
from pydantic import BaseModel

from integrations.openai_agents import (
    DurableModel,
    DurableModelCalls,
    DurableRunner,
    RestateSession,
    raise_restate_errors,
)
from integrations.streams import (
    ChatPage,
    TopicPublisher,
    agent_events,
    await_approval,
    current_publisher,
    events_object,
    with_events,
)

SMALL_RETENTION = 7


class Ask(BaseModel):
    topic: str
    message: str
    api: Literal["responses", "chat", "runner", "streamed"] = "responses"
    object_name: str = "AgentEvents"
    noted: bool = False


@function_tool
async def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"{city}: 14 degrees and fog"


@function_tool(name_override="get_weather", failure_error_function=raise_restate_errors)
async def get_weather_noted(wrapper: RunContextWrapper[restate.Context], city: str) -> str:
    """The weather in a city."""
    publisher = current_publisher(wrapper.context)
    assert publisher is not None, "the run's publisher is reachable from its tools"
    publisher.custom(wrapper.context, "lookup", {"city": city})
    return f"{city}: 14 degrees and fog"


weather_agent = Agent(name="Weather", instructions="Answer weather questions.", tools=[get_weather])
noted_agent = Agent[restate.Context](
    name="Weather", instructions="Answer weather questions.", tools=[get_weather_noted]
)

streaming_agent = restate.Service("StreamingAgent")


@streaming_agent.handler()
async def run(ctx: restate.Context, ask: Ask) -> str:
    events = TopicPublisher(ask.topic, object_name=ask.object_name)
    agent = noted_agent if ask.noted else weather_agent
    if ask.api == "runner":
        ran = await DurableRunner.run(
            agent, ask.message, context=ctx, run_config=RunConfig(model="gpt-4o"), events=events
        )
        return str(ran.final_output)
    if ask.api == "streamed":
        streamed = DurableRunner.run_streamed(
            agent, ask.message, context=ctx, run_config=RunConfig(model="gpt-4o"), events=events
        )
        async for _ in streamed.stream_events():
            pass
        return str(streamed.final_output)
    if ask.api == "chat":
        chat_model = OpenAIChatCompletionsModel(model="gpt-4o", openai_client=AsyncOpenAI())
        config = RunConfig(model=DurableModel(chat_model, context=ctx, events=events))
    else:
        config = RunConfig(model="gpt-4o", model_provider=DurableModelCalls(ctx, events=events))
    result = await Runner.run(agent, ask.message, context=ctx, run_config=config)
    return str(result.final_output)


class ChatMessage(BaseModel):
    message: str


@function_tool(failure_error_function=raise_restate_errors)
async def transfer_money(wrapper: RunContextWrapper[restate.ObjectContext], amount: int) -> str:
    """Transfer money; a person must approve it first."""
    ctx = wrapper.context
    approved = await await_approval(ctx, f"Transfer {amount} EUR?")
    return f"transferred {amount} EUR" if approved else "the transfer was declined"


approval_chat = restate.VirtualObject("ApprovalChat")


@approval_chat.handler()
async def message(ctx: restate.ObjectContext, chat_message: ChatMessage) -> str:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx)
    agent = Agent(name="Banker", instructions="You move money when asked.", tools=[transfer_money])
    events = TopicPublisher(f"ApprovalChat:{ctx.key()}")
    config = RunConfig(model="gpt-4o")
    result = await DurableRunner.run(
        agent, chat_message.message, context=ctx, run_config=config, session=session, events=events
    )
    return str(result.final_output)


@approval_chat.handler(kind="shared")
async def get_history(ctx: restate.ObjectSharedContext) -> list[Any]:
    items: list[Any] = await ctx.get("items") or []
    return items


@function_tool(needs_approval=True)
async def wire_money(amount: int) -> str:
    """Wire money; the SDK stops the run until a person approves the call."""
    return f"wired {amount} EUR"


wire_agent = restate.Service("WireAgent")


@wire_agent.handler()
async def wire(ctx: restate.Context, ask: Ask) -> str:
    """``needs_approval`` under ``DurableRunner.run(..., events=...)``: the approval is announced on the topic."""
    agent = Agent(name="Wire", instructions="Wire money when asked.", tools=[wire_money])
    events = TopicPublisher(ask.topic)
    result = await DurableRunner.run(
        agent, ask.message, context=ctx, run_config=RunConfig(model="gpt-4o"), events=events
    )
    return str(result.final_output)


small_events = events_object("SmallEvents", retention=SMALL_RETENTION)

app = with_events(
    restate.app(services=[streaming_agent, approval_chat, wire_agent, agent_events, small_events]),
    chats=[ChatPage(service="ApprovalChat")],
)
