"""Durable sessions: a chat agent whose conversations live in a Virtual Object's state.

Try it: the "sessions" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

The object key is the user, ``session_id`` the conversation: ``RestateSessionService`` keeps each
ADK event under a state key of its own, and Restate runs one ``message`` per user at a time, so
concurrent messages queue instead of racing. ``get_history`` is a shared handler: it reads while a
message runs.
"""

from __future__ import annotations

from typing import Any

import restate
from google.adk.agents import LlmAgent

from .utils import SESSIONS, ChatMessage, durable_app, model, run_agent

agent = LlmAgent(model=model(), name="assistant", instruction="You are a helpful assistant. Be concise and helpful.")
app = durable_app("chat", agent)

chat = restate.VirtualObject("Chat")


@chat.handler()
async def message(ctx: restate.ObjectContext, req: ChatMessage) -> str:
    return await run_agent(app, req.message, user_id=ctx.key(), session_id=req.session_id)


@chat.handler(kind="shared")
async def get_history(ctx: restate.ObjectSharedContext, session_id: str) -> list[dict[str, Any]]:
    """The conversation ``session_id`` of this user: one ``{"role", "text"}`` per message."""
    session = await SESSIONS.get_session(app_name=app.name, user_id=ctx.key(), session_id=session_id)
    history: list[dict[str, Any]] = []
    for event in session.events if session is not None else []:
        said = "".join(part.text for part in (event.content.parts or []) if part.text) if event.content else ""
        if said:
            history.append({"role": "user" if event.author == "user" else "assistant", "text": said})
    return history
