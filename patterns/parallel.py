"""Parallelisation: several tool calls, or several agents, at the same time.

Concurrent steps are started first and awaited together with ``restate.gather``; results are
combined in a fixed order, so what the handler does next is the same on every replay no matter
which step finished first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import restate
from pydantic import BaseModel

from ._examples import WeatherRequest, get_weather
from ._llm import chat, llm_step, text_of
from ._loop import DEFAULT_MAX_TURNS, run_agent_loop
from ._tools import LocalTool, Tool

__all__ = [
    "Analysis",
    "DEFAULT_ANALYSES",
    "DEFAULT_LOOP_TOOLS",
    "DEFAULT_WEATHER_TOOLS",
    "ParallelAnalysisInput",
    "WeatherQuestion",
    "manual_loop_agent",
    "manual_loop_service",
    "parallel_agents",
    "parallel_agents_service",
    "parallel_tool_agent",
    "parallel_tools_service",
]


class WeatherQuestion(BaseModel):
    """A question that makes the model call several tools in one turn."""

    message: str = "What is the weather like in New York, San Francisco and Boston?"


DEFAULT_WEATHER_TOOLS: tuple[Tool, ...] = (
    LocalTool("get_weather", "Get the current weather in a given city", get_weather, parameters=WeatherRequest),
)


def parallel_tools_service(
    tools: Sequence[Tool] = DEFAULT_WEATHER_TOOLS,
    *,
    name: str = "ParallelToolAgent",
    instructions: str | None = None,
    model: str | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> restate.Service:
    """A service whose ``run`` handler is an agent loop that executes all tool calls of one
    model turn concurrently (each a journaled step or durable call) before the next turn."""
    chosen = tuple(tools)
    service = restate.Service(name)

    @service.handler()
    async def run(ctx: restate.Context, question: WeatherQuestion) -> str:
        """Answer the question, running each turn's tool calls in parallel."""
        messages = chat(instructions, question.message)
        return await run_agent_loop(
            ctx, messages, chosen, request=question, model=model, parallel=True, max_turns=max_turns
        )

    return service


# -- manual agent loop ---------------------------------------------------------------------------

DEFAULT_LOOP_TOOLS = DEFAULT_WEATHER_TOOLS

LOOP_PROMPT = "You are a helpful assistant. Use the tools when they help; call several at once when you can."


def manual_loop_service(
    tools: Sequence[Tool] = DEFAULT_LOOP_TOOLS,
    *,
    name: str = "ManualLoopAgent",
    instructions: str = LOOP_PROMPT,
    model: str | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> restate.Service:
    """A hand-written agent loop (no agent SDK) with a system prompt, parallel tool calls and a
    turn limit: the building block to start from when no agent framework fits. It is the
    parallel-tools loop under its own name and prompt."""
    return parallel_tools_service(tools, name=name, instructions=instructions, model=model, max_turns=max_turns)


# -- parallel agents -----------------------------------------------------------------------------

EXAMPLE_TEXT = (
    "Our Q3 results exceeded all expectations! Customer satisfaction reached 95%, revenue grew by 40% "
    "year over year, and we launched three new product features despite supply chain challenges."
)


class ParallelAnalysisInput(BaseModel):
    """The text every analysis looks at."""

    message: str = EXAMPLE_TEXT


@dataclass(frozen=True)
class Analysis:
    """One independent analysis: ``name`` labels its journaled step and its result."""

    name: str
    instructions: str


DEFAULT_ANALYSES: tuple[Analysis, ...] = (
    Analysis("sentiment", "Classify the sentiment of the text as positive, negative or neutral, with one reason."),
    Analysis("key_points", "Extract the three most important points of the text as bullet points."),
    Analysis("summary", "Summarise the text in one sentence."),
)


def parallel_agents_service(
    analyses: Sequence[Analysis] = DEFAULT_ANALYSES,
    *,
    name: str = "ParallelAgentsService",
    model: str | None = None,
) -> restate.Service:
    """A service whose ``analyze`` handler runs every analysis concurrently and returns
    ``{analysis name: result}`` in the order the analyses were given."""
    chosen = tuple(analyses)
    if not chosen:
        raise ValueError("parallel agents need at least one analysis")
    names = [a.name for a in chosen]
    if len(set(names)) != len(names):
        raise ValueError(f"analysis names must be unique: {names}")
    service = restate.Service(name)

    @service.handler()
    async def analyze(ctx: restate.Context, request: ParallelAnalysisInput) -> dict[str, str]:
        """Start all analyses, wait for all, combine in declaration order."""
        futures = [llm_step(ctx, a.name, chat(a.instructions, request.message), model=model) for a in chosen]
        await restate.gather(*futures)
        return {a.name: text_of(await f) for a, f in zip(chosen, futures)}

    return service


parallel_tool_agent = parallel_tools_service()
manual_loop_agent = manual_loop_service()
parallel_agents = parallel_agents_service()
