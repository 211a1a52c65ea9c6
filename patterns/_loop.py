"""The hand-written agent loop every tool-using pattern shares: model turn, tool calls, repeat."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import restate
from pydantic import BaseModel

from integrations.litellm import tool_result

from ._llm import llm_step, text_of
from ._tools import PendingToolResult, Tool, start_tool_call, tool_specs

__all__ = ["DEFAULT_MAX_TURNS", "ToolResultHook", "run_agent_loop"]

DEFAULT_MAX_TURNS = 10

ToolResultHook = Callable[[PendingToolResult, str], None]
"""Called in the handler (not in a step) with each tool call that ran and its journaled result
text, in the model's call order: the saga registers a compensation here."""


async def run_agent_loop(
    ctx: restate.Context,
    messages: list[dict[str, Any]],
    tools: Sequence[Tool],
    *,
    request: BaseModel,
    model: str | None,
    parallel: bool,
    max_turns: int = DEFAULT_MAX_TURNS,
    on_tool_result: ToolResultHook | None = None,
) -> str:
    """Call the model until it answers without tool calls; return that answer.

    ``parallel=True`` starts all tool calls of one model turn before waiting for any (they run
    concurrently) and waits with ``restate.gather``; results are appended in the model's call
    order, so the next prompt is identical on every replay. ``parallel=False`` runs them one
    after another, for tools whose order matters (bookings, sagas).
    ``messages`` is extended in place, so a caller can inspect the conversation afterwards.
    A tool's ``TerminalError`` (or exhausted attempts) propagates out of the loop; so does running
    out of turns, as a ``TerminalError``.
    """
    specs = tool_specs(tools)

    async def answered(started: PendingToolResult) -> dict[str, Any]:
        output = await started.result()
        if on_tool_result is not None and started.tool is not None:
            on_tool_result(started, output)
        return tool_result(started.call.id, started.call.function.name, output)

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
                messages.append(await answered(started))
        else:
            for call in response.tool_calls:
                messages.append(await answered(start_tool_call(ctx, call, tools, request)))
    raise restate.TerminalError(f"the agent did not produce an answer within {max_turns} model turns")
