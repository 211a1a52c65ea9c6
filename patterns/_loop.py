"""The hand-written agent loop shared by the tool-using patterns: model turn, tool calls, repeat."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import restate
from pydantic import BaseModel

from ._llm import llm_step, text_of
from ._tools import Tool, start_tool_call, tool_specs

DEFAULT_MAX_TURNS = 10


async def run_agent_loop(
    ctx: restate.Context,
    messages: list[dict[str, Any]],
    tools: Sequence[Tool],
    *,
    request: BaseModel,
    model: str | None,
    parallel: bool,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> str:
    """Call the model until it answers without tool calls; return that answer.

    ``parallel=True`` starts all tool calls of one model turn before waiting for any (they run
    concurrently) and waits with ``restate.gather``; results are appended in the model's call
    order, so the next prompt is identical on every replay. ``parallel=False`` runs them one
    after another, for tools whose order matters (bookings, sagas).
    ``messages`` is extended in place, so a caller can inspect the conversation afterwards.
    """
    specs = tool_specs(tools)
    for _ in range(max_turns):
        response = await llm_step(ctx, "LLM call", messages, tools=specs, model=model)
        messages.append(response.to_message())
        if not response.tool_calls:
            return text_of(response)
        if parallel:
            pending = [start_tool_call(ctx, call, tools, request) for call in response.tool_calls]
            futures = [p.future for p in pending if p.future is not None]
            if futures:
                await restate.gather(*futures)
            for started in pending:
                messages.append(await started.message())
        else:
            for call in response.tool_calls:
                messages.append(await start_tool_call(ctx, call, tools, request).message())
    raise restate.TerminalError(f"the agent did not produce an answer within {max_turns} model turns")
