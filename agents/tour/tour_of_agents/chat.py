"""Chapter "sessions": a chat agent per Virtual Object key, with its history in Restate state.

    curl localhost:8080/Chat/session123/message --json '{"message": "Make a poem about durable execution."}'
    curl localhost:8080/Chat/session123/get_history

``message`` is exclusive: Restate queues concurrent messages per key, so no turn is lost.
``get_history`` is shared: it reads the ``items`` state while a turn may be running.
Each turn also streams live to the topic ``Chat:<key>`` (``TopicPublisher``, our one addition to
the tour): the chat page at ``/chat/`` of the service port shows the answer as it is written.
(This is the tour's ``Chat``; ``./dev up patterns`` serves a different service with the same name.)
"""

from __future__ import annotations

from agents import Agent, ModelSettings, RunConfig, Runner
from restate import ObjectContext, ObjectSharedContext, VirtualObject

from integrations.openai_agents import DurableModelCalls, RestateSession
from integrations.streams import TopicPublisher

from .utils.models import MODEL, ChatMessage

chat = VirtualObject("Chat")


@chat.handler()
async def message(restate_context: ObjectContext, chat_message: ChatMessage) -> str:
    restate_session = await RestateSession.create(session_id=restate_context.key(), ctx=restate_context)

    result = await Runner.run(
        Agent(name="Assistant", instructions="You are a helpful assistant."),
        input=chat_message.message,
        run_config=RunConfig(
            model=MODEL,
            model_provider=DurableModelCalls(restate_context, events=TopicPublisher(f"Chat:{restate_context.key()}")),
            model_settings=ModelSettings(parallel_tool_calls=False),
        ),
        session=restate_session,
    )
    return result.final_output


@chat.handler(kind="shared")
async def get_history(ctx: ObjectSharedContext) -> list:
    return await ctx.get("items") or []
