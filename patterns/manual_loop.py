"""A hand-written agent loop (no agent SDK): model turn, tool calls in parallel, repeat, with a
system prompt and a turn limit; the building block to start from when no agent framework fits.

Each model turn and each tool call is its own journaled step, so after a crash the loop resumes
where it was: the model is not asked again and no tool runs twice.
"""

from __future__ import annotations

from collections.abc import Sequence

import restate

from integrations.testing import ModelRequest, Reply

from ._examples import DEFAULT_WEATHER_TOOLS, WeatherQuestion, weather_reply
from ._llm import chat
from ._loop import DEFAULT_MAX_TURNS, run_agent_loop
from ._offline import instructed
from ._pattern import Pattern
from ._tools import Tool
from ._validation import unique_by_name

__all__ = ["PATTERN", "DEFAULT_LOOP_TOOLS", "LOOP_PROMPT", "manual_loop_service", "offline_script"]

DEFAULT_LOOP_TOOLS: tuple[Tool, ...] = DEFAULT_WEATHER_TOOLS

LOOP_PROMPT = "You are a helpful assistant. Use the tools when they help; call several at once when you can."


def manual_loop_service(
    tools: Sequence[Tool] = DEFAULT_LOOP_TOOLS,
    *,
    name: str = "ManualLoopAgent",
    instructions: str | None = LOOP_PROMPT,
    model: str | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> restate.Service:
    """A service whose ``run`` handler is the shared agent loop with ``instructions`` as system
    prompt (``None``: none): all tool calls of one turn run concurrently, unknown tools and invalid arguments are
    answered to the model, and ``max_turns`` turns without an answer fail the invocation."""
    chosen = unique_by_name(tools, "tool")
    service = restate.Service(name)

    @service.handler()
    async def run(ctx: restate.Context, question: WeatherQuestion) -> str:
        """Answer the question with the tools, one model turn at a time."""
        messages = chat(instructions, question.message)
        return await run_agent_loop(
            ctx, messages, chosen, request=question, model=model, parallel=True, max_turns=max_turns
        )

    return service


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default manual loop: a ``get_weather`` call per city in one turn,
    then the answer."""
    if not instructed(request, LOOP_PROMPT):
        return None
    return weather_reply(request)


PATTERN = Pattern(defaults=lambda: {"manual_loop_agent": manual_loop_service()}, offline_script=offline_script)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
