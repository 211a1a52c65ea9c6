"""What the ADK test apps (``adk_app``, ``adk_crash_app``) and the ADK benchmark apps
(``bench/adk_*.py``) do alike around an ADK run: run one turn for its final text, and read back the
events ``RestateSessionService`` stored for a session.

The quickstart (``agents/adk_quickstart``) and the ``durable-agents new`` template keep their own
turn loop on purpose: they show what a user writes.
"""

from __future__ import annotations

from typing import Any

import restate
from google.adk.agents.run_config import RunConfig
from google.adk.runners import Runner
from google.genai import types


async def final_text(
    runner: Runner, *, user_id: str, session_id: str, message: str, run_config: RunConfig | None = None
) -> str:
    """Run one turn of ``message`` in the session and return the text of its final response(s),
    one line each. Streamed chunks (``partial``) are skipped: their text comes again, whole, in the
    final event."""
    answer: list[str] = []
    async for event in runner.run_async(
        user_id=user_id,
        session_id=session_id,
        new_message=types.Content(role="user", parts=[types.Part(text=message)]),
        run_config=run_config,
    ):
        if event.partial:
            continue
        if event.is_final_response() and event.content and event.content.parts:
            answer.extend(part.text for part in event.content.parts if part.text)
    return "\n".join(answer)


async def stored_events(ctx: restate.ObjectSharedContext) -> list[dict[str, Any]]:
    """The events ``integrations.google_adk.RestateSessionService`` stored for the session
    ``ctx.key()``, in order, as stored (camelCase JSON): what a test compares across restarts."""
    meta = await ctx.get(f"adk:session:{ctx.key()}", type_hint=dict[str, Any]) or {}
    events = []
    for index in range(int(meta.get("events", 0))):
        events.append(await ctx.get(f"adk:event:{ctx.key()}:{index:06d}", type_hint=dict[str, Any]) or {})
    return events
