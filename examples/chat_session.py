"""A chat with memory: the OpenAI Agents SDK with a Restate-backed session (the tour's chat).

    python -m integrations.runtime.serve examples/chat_session.py:app --port 9080
    curl localhost:8080/Chat/alice/message --json '{"message": "Hi, I am Alice"}'
    curl localhost:8080/Chat/alice/get_history

Each key is one conversation. Restate queues concurrent messages per key, so none is lost, and
the history lives in the object's state, so it survives restarts.
"""

from __future__ import annotations

import os

from agents import Agent, RunConfig, Runner
from pydantic import BaseModel
from restate import ObjectContext, ObjectSharedContext, VirtualObject, app as restate_app

from integrations.inputs import guard_inputs
from integrations.openai_agents import DurableModelCalls, RestateSession


class ChatMessage(BaseModel):
    message: str = "Hi! What can you do?"


assistant = Agent(name="Assistant", instructions="You are a helpful assistant. Be brief.")
chat = VirtualObject("Chat")


@chat.handler()
async def message(restate_context: ObjectContext, chat_message: ChatMessage) -> str:
    restate_session = await RestateSession.create(session_id=restate_context.key(), ctx=restate_context)
    result = await Runner.run(
        assistant,
        input=chat_message.message,
        run_config=RunConfig(
            model=os.environ.get("AGENT_MODEL", "gpt-4o"), model_provider=DurableModelCalls(restate_context)
        ),
        session=restate_session,
    )
    return result.final_output


@chat.handler(kind="shared")
async def get_history(ctx: ObjectSharedContext) -> list:
    return await ctx.get("items") or []


app = restate_app(guard_inputs([chat]))  # bad or oversized bodies: a 4xx at once
