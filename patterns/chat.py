"""Sessions: a Virtual Object per conversation keeps the memory in Restate's state.

Restate runs one exclusive handler per key at a time and queues the rest in arrival order, so
concurrent messages to one session never interleave and none is lost; the state update commits
together with the invocation, so a crash never leaves half a turn in memory.
"""

from __future__ import annotations

from typing import Any

import restate
from pydantic import BaseModel

from integrations.testing import ModelRequest, Reply

from ._llm import llm_step, text_of
from ._offline import answer, schema_fields
from ._pattern import Pattern

__all__ = ["PATTERN", "ChatMessage", "MEMORY_KEY", "chat_object", "offline_script"]

MEMORY_KEY = "memory"
"""The state key that holds the conversation (a list of chat messages)."""


class ChatMessage(BaseModel):
    """One user message to the session."""

    message: str = "Write a poem about Durable Execution"


def chat_object(
    *,
    name: str = "Chat",
    instructions: str | None = None,
    model: str | None = None,
    max_history: int | None = None,
) -> restate.VirtualObject:
    """A Virtual Object ``<name>/{session}``: ``message`` adds a turn, ``get_history`` reads it.

    ``on_message`` is the same turn under the name the docs' sessions page curls
    (``Chat/user123/on_message``), and ``history`` the same read as ``get_history``.
    ``instructions`` is sent as the system prompt on every turn but not stored; ``max_history``
    (if set) limits how many stored messages are sent to the model, never what is stored.
    """
    if max_history is not None and max_history < 1:
        raise ValueError("max_history must be at least 1")
    session = restate.VirtualObject(name)

    async def turn(ctx: restate.ObjectContext, request: ChatMessage) -> str:
        memory: list[dict[str, Any]] = await ctx.get(MEMORY_KEY, type_hint=list[dict[str, Any]]) or []
        memory.append({"role": "user", "content": request.message})
        window = memory[-max_history:] if max_history else memory
        prompt = ([{"role": "system", "content": instructions}] if instructions else []) + window
        reply = text_of(await llm_step(ctx, "LLM call", prompt, model=model))
        memory.append({"role": "assistant", "content": reply})
        ctx.set(MEMORY_KEY, memory)
        return reply

    async def read(ctx: restate.ObjectSharedContext) -> list[dict[str, Any]]:
        return await ctx.get(MEMORY_KEY, type_hint=list[dict[str, Any]]) or []

    @session.handler()
    async def message(ctx: restate.ObjectContext, request: ChatMessage) -> str:
        """Answer the message with the whole conversation as context and remember both."""
        return await turn(ctx, request)

    @session.handler()
    async def on_message(ctx: restate.ObjectContext, request: ChatMessage) -> str:
        """Same as ``message``: one turn of the conversation."""
        return await turn(ctx, request)

    @session.handler(kind="shared")
    async def get_history(ctx: restate.ObjectSharedContext) -> list[dict[str, Any]]:
        """The stored conversation; shared, so it can be read while a turn is running."""
        return await read(ctx)

    @session.handler(kind="shared")
    async def history(ctx: restate.ObjectSharedContext) -> list[dict[str, Any]]:
        """Same as ``get_history``."""
        return await read(ctx)

    return session


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default chat (no system prompt, no tools, free text): it says
    which turn of the conversation it is answering, so the memory is visible."""
    if request.system or request.tool_names() or schema_fields(request):
        return None
    turns = len(request.user_texts())
    return answer(f"(turn {turns} of this conversation) you said: {request.last_user_text[:80]}")


PATTERN = Pattern(defaults=lambda: {"chat_session": chat_object()}, offline_script=offline_script, catch_all=True)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
