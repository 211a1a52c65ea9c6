"""Chapter "sessions": a chat agent per Virtual Object key, with its history in Restate state.

    curl localhost:8080/Chat/session123/message --json '{"message": "Make a poem about durable execution."}'
    curl localhost:8080/Chat/session123/get_history

``message`` is exclusive: Restate queues concurrent messages per key, so no turn is lost.
``get_history`` is shared: it reads the ``items`` state while a turn may be running.
Each turn also streams live to the topic ``Chat:<key>`` (``TopicPublisher``, our addition to
the tour): the chat page at ``/chat/`` of the service port shows the answer as it is written.
Our second addition: ``send_email`` asks a person first (``await_approval``, announced on the same
topic), so "Email the poem to alice@example.com" shows the page's approval panel.
(This is the tour's ``Chat``; ``./dev up patterns`` serves a different service with the same name.)
"""

from __future__ import annotations

from agents import Agent, ModelSettings, RunConfig, RunContextWrapper, Runner, function_tool
from restate import ObjectContext, ObjectSharedContext, VirtualObject

from integrations.openai_agents import DurableModelCalls, RestateSession, raise_restate_errors
from integrations.streams import TopicPublisher, await_approval

from .utils.models import MODEL, ChatMessage

chat = VirtualObject("Chat")


@function_tool(failure_error_function=raise_restate_errors)
async def send_email(wrapper: RunContextWrapper[ObjectContext], to: str, subject: str, body: str) -> str:
    """Send an email; a person approves it first on the chat page."""
    # Announced on the run's own topic (the chat page shows Approve/Reject); waits durably.
    if not await await_approval(wrapper.context, f"Send an email to {to}: {subject!r}?"):
        return f"Not sent: the email to {to} was rejected."
    return f"Email to {to} sent (the tour only pretends to send it)."


@chat.handler()
async def message(restate_context: ObjectContext, chat_message: ChatMessage) -> str:
    restate_session = await RestateSession.create(session_id=restate_context.key(), ctx=restate_context)

    result = await Runner.run(
        Agent[ObjectContext](name="Assistant", instructions="You are a helpful assistant.", tools=[send_email]),
        input=chat_message.message,
        context=restate_context,
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
