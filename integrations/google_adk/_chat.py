"""A ready ADK chat for the chat page (``/chat/``): a Virtual Object per conversation.

The page (``integrations.streams``) talks to a chat object through two handlers and one topic:

- ``message`` (exclusive) takes ``{"message": "<text>"}``, runs the app's agent in the session
  named by the object's key, and answers with the final text. Restate queues concurrent messages
  per key, so no turn is lost;
- ``get_history`` (shared, reads while a turn runs) returns the session's events as the page's
  items: ``{"role": "user"|"assistant", "content": text}``, ``{"type": "function_call", "name",
  "arguments"}`` and ``{"type": "function_call_output", "call_id", "output"}``;
- every turn publishes to the topic ``<service>:<key>`` (``ChatPage``'s default), live.

```python
chat = chat_object(App(name="assistant", root_agent=agent, plugins=[DurablePlugin()]))
app = with_events(restate.app(services=[chat, agent_events]))  # serves /chat/ next to the services
```
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import restate
from google.adk.apps import App
from google.adk.events.event import Event
from google.adk.memory.base_memory_service import BaseMemoryService
from google.adk.runners import Runner
from google.genai import types
from pydantic import BaseModel

from ..streams import EVENTS_OBJECT, TopicPublisher
from ._serde import load_lenient
from ._session import SESSION_PREFIX, RestateSessionService, event_key

__all__ = ["ChatMessage", "chat_object", "session_history"]


class ChatMessage(BaseModel):
    """What the chat page posts to ``message``."""

    message: str


def _text(content: types.Content | None) -> str:
    if content is None or not content.parts:
        return ""
    return "".join(part.text for part in content.parts if part.text and not part.thought)


def _output(response: types.FunctionResponse) -> str:
    value = response.response
    if isinstance(value, dict) and set(value) == {"result"} and isinstance(value["result"], str):
        return value["result"]  # ADK wraps a tool's plain return value as {"result": ...}
    return json.dumps(value, sort_keys=True, default=str)


def history_items(event: Event) -> list[dict[str, Any]]:
    """One session event as the chat page's items (text, function calls, their results)."""
    items: list[dict[str, Any]] = []
    content = event.content
    if content is None or not content.parts or event.partial:
        return items
    role = "user" if event.author == "user" else "assistant"
    for part in content.parts:
        if part.function_call is not None:
            call = part.function_call
            arguments = json.dumps(call.args or {}, sort_keys=True, default=str)
            items.append({"type": "function_call", "name": call.name, "call_id": call.id, "arguments": arguments})
        elif part.function_response is not None:
            response = part.function_response
            items.append({"type": "function_call_output", "call_id": response.id, "output": _output(response)})
    text = _text(content)
    if text:
        items.append({"role": role, "content": text})
    return items


async def session_history(ctx: restate.ObjectSharedContext | restate.ObjectContext, session_id: str) -> list[Any]:
    """The session's events, oldest first, as the chat page's items (``history_items``).

    Reads the object's state as ``RestateSessionService`` writes it; usable from a shared handler,
    so the page can show the history while a turn runs.
    """
    meta = await ctx.get(SESSION_PREFIX + session_id, type_hint=dict[str, Any])
    if not isinstance(meta, dict):
        return []
    items: list[Any] = []
    for index in range(int(meta.get("events", 0))):
        data = await ctx.get(event_key(session_id, index), type_hint=dict[str, Any])
        if data is not None:
            items.extend(history_items(load_lenient(Event, data, f"session {session_id!r} event {index}")))
    return items


def owner_of(key: str) -> str:
    """The user a chat key belongs to: the key up to its first ``:`` (``alice:travel`` -> ``alice``)."""
    return key.split(":", 1)[0]


def chat_object(
    app: App,
    *,
    name: str = "Chat",
    sessions: RestateSessionService | None = None,
    memory_service: BaseMemoryService | None = None,
    topic: str = "{service}:{key}",
    events_object_name: str = EVENTS_OBJECT,
    user_of: Callable[[str], str] = owner_of,
) -> restate.VirtualObject:
    """A Virtual Object ``name`` that chats with ``app``'s agent, one ADK session per key.

    ``app`` should carry a ``DurablePlugin`` (first in its plugin list). The session id is the
    object's key, the user id ``user_of(key)``: by default the key up to its first ``:``
    (``alice:travel`` is alice's), the chat page's ``owner_only`` rule, so one user's sessions
    share a memory. ``memory_service`` (e.g. ``RestateMemoryService``) is handed
    to the ``Runner``, for ``load_memory``/``preload_memory`` and ``add_session_to_memory``.
    ``topic`` is the template of the topic each turn publishes to; it must match the ``ChatPage``
    the page is served with (the default matches ``ChatPage(service=name)``). Register it with the
    topic object (``agent_events``) and serve the page with ``with_events``.
    """
    chat = restate.VirtualObject(name)
    session_service = sessions or RestateSessionService()

    @chat.handler()
    async def message(ctx: restate.ObjectContext, chat_message: ChatMessage) -> str:
        """One turn: run the agent on the message in this key's session, live on the topic."""
        key = ctx.key()
        TopicPublisher(topic.replace("{service}", name).replace("{key}", key), object_name=events_object_name).attach(
            ctx
        )
        runner = Runner(
            app=app, session_service=session_service, memory_service=memory_service, auto_create_session=True
        )
        answer: list[str] = []
        new_message = types.Content(role="user", parts=[types.Part(text=chat_message.message)])
        async for event in runner.run_async(user_id=user_of(key), session_id=key, new_message=new_message):
            if event.is_final_response():
                text = _text(event.content)
                if text:
                    answer.append(text)
        return "\n".join(answer)

    @chat.handler(kind="shared")
    async def get_history(ctx: restate.ObjectSharedContext) -> list[Any]:
        """The session's items for the page (see ``session_history``)."""
        return await session_history(ctx, ctx.key())

    return chat
