"""Long conversations with a bounded session: the chat object of the tour, with a compaction policy.

Thresholds come from the environment so one app serves every parametrised test:
KEEP_LAST, SUMMARIZE_AFTER (``Compaction``, summariser ``gpt-4o-mini``) and MAX_ITEMS (``DropOldest``).
"""

from __future__ import annotations

import os
from typing import Any

import restate
from agents import Agent, RunConfig, RunContextWrapper, function_tool
from pydantic import BaseModel
from restate import ObjectContext, ObjectSharedContext, VirtualObject

from integrations.openai_agents import Compaction, DropOldest, DurableRunner, RestateSession, raise_restate_errors
from tests.apps._support import record_effect, wait_for_gate

SUMMARIZER = "gpt-4o-mini"


async def _look_up(topic: str) -> str:
    record_effect(f"lookup:{topic}")
    if topic.startswith("slow"):
        await wait_for_gate(topic)
    return f"facts about {topic}"


@function_tool(failure_error_function=raise_restate_errors)
async def lookup(wrapper: RunContextWrapper[restate.Context], topic: str) -> str:
    """Look a topic up."""
    return await wrapper.context.run_typed("lookup", _look_up, topic=topic)


assistant = Agent[restate.Context](name="Assistant", instructions="You are a helpful assistant.", tools=[lookup])


class ChatMessage(BaseModel):
    message: str


def summary_policy() -> Compaction:
    return Compaction(
        keep_last=int(os.environ.get("KEEP_LAST", "4")),
        summarize_after=int(os.environ.get("SUMMARIZE_AFTER", "12")),
        summarizer=SUMMARIZER,
    )


def drop_policy() -> DropOldest:
    return DropOldest(max_items=int(os.environ.get("MAX_ITEMS", "8")))


async def _turn(ctx: ObjectContext, message: str, session: RestateSession) -> str:
    result = await DurableRunner.run(
        assistant, message, context=ctx, run_config=RunConfig(model="gpt-4o"), session=session
    )
    return result.final_output_as(str)


summarized = VirtualObject("SummarizedChat")


@summarized.handler()
async def say(ctx: ObjectContext, chat_message: ChatMessage) -> str:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx, compaction=summary_policy())
    return await _turn(ctx, chat_message.message, session)


@summarized.handler(kind="shared")
async def history(ctx: ObjectSharedContext) -> list[Any]:
    return await RestateSession.history(ctx, layout="compacted")


windowed = VirtualObject("WindowedChat")


@windowed.handler(name="say", state_preload=False)  # lazy state: the archive is never sent to a turn
async def windowed_say(ctx: ObjectContext, chat_message: ChatMessage) -> str:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx, compaction=drop_policy())
    return await _turn(ctx, chat_message.message, session)


@windowed.handler(name="history", kind="shared")
async def windowed_history(ctx: ObjectSharedContext) -> list[Any]:
    return await RestateSession.history(ctx, layout="compacted")


full = VirtualObject("FullChat")


@full.handler(name="say")
async def full_say(ctx: ObjectContext, chat_message: ChatMessage) -> str:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx)
    return await _turn(ctx, chat_message.message, session)


app = restate.app([summarized, windowed, full])
