"""Parallelisation: several tool calls, or several agents, at the same time.

Concurrent steps are started first and awaited together with ``restate.gather``; results are
combined in a fixed order, so what the handler does next is the same on every replay no matter
which step finished first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import restate
from pydantic import BaseModel

from integrations.testing import ModelRequest, Reply

from ._examples import DEFAULT_WEATHER_TOOLS, WEATHER_TOOL, WeatherQuestion, weather_reply
from ._llm import chat, llm_step, text_of
from ._loop import DEFAULT_MAX_TURNS
from ._offline import answer, instructed, offers
from ._pattern import Pattern
from ._tools import Tool
from ._validation import unique_by_name
from .manual_loop import manual_loop_service

__all__ = [
    "PATTERN",
    "Analysis",
    "DEFAULT_ANALYSES",
    "DEFAULT_WEATHER_TOOLS",
    "ParallelAnalysisInput",
    "WeatherQuestion",
    "offline_script",
    "parallel_agents_service",
    "parallel_tools_service",
]


# -- parallel tools ------------------------------------------------------------------------------


def parallel_tools_service(
    tools: Sequence[Tool] = DEFAULT_WEATHER_TOOLS,
    *,
    name: str = "ParallelToolAgent",
    instructions: str | None = None,
    model: str | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> restate.Service:
    """A service whose ``run`` handler is an agent loop that executes all tool calls of one
    model turn concurrently (each a journaled step or durable call) before the next turn: the
    manual loop (``manual_loop_service``) under this pattern's name and without a system prompt."""
    return manual_loop_service(tools, name=name, instructions=instructions, model=model, max_turns=max_turns)


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
    """One independent analysis: ``name`` labels its journaled step."""

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
    """A service whose ``analyze`` handler runs every analysis concurrently and returns their
    results as a list of strings, in the order the analyses were given (as the docs' page shows)."""
    chosen = unique_by_name(analyses, "analysis", required=True)
    service = restate.Service(name)

    @service.handler()
    async def analyze(ctx: restate.Context, request: ParallelAnalysisInput) -> list[str]:
        """Start all analyses, wait for all, combine in declaration order."""
        futures = [llm_step(ctx, a.name, chat(a.instructions, request.message), model=model) for a in chosen]
        await restate.gather(*futures)
        return [text_of(await future) for future in futures]

    return service


# -- offline script ------------------------------------------------------------------------------

_SENTENCE = re.compile(r"(?<=[.!?])\s+")


def _analyse(analysis: Analysis, content: str) -> str:
    sentences = [s for s in _SENTENCE.split(content.strip()) if s]
    if analysis.name == "sentiment":
        return "positive: the text reports results above expectations."
    if analysis.name == "key_points":
        return "\n".join(f"- {s}" for s in sentences[:3])
    return sentences[0] if sentences else content


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default parallel-tools agent (no system prompt, the weather tool:
    one ``get_weather`` call per city, all in one turn) and as each default analysis."""
    if not request.system and offers(request, WEATHER_TOOL):
        return weather_reply(request)
    for analysis in DEFAULT_ANALYSES:
        if instructed(request, analysis.instructions):
            return answer(f"({analysis.name}) {_analyse(analysis, request.last_user_text)}")
    return None


PATTERN = Pattern(
    defaults=lambda: {"parallel_tool_agent": parallel_tools_service(), "parallel_agents": parallel_agents_service()},
    offline_script=offline_script,
)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
