"""Prompt chaining: each model call transforms the previous call's output.

Every step is its own journaled call, so after a crash the chain resumes at the first step that
had not finished instead of paying for the earlier calls again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import restate
from pydantic import BaseModel

from ._llm import llm_step, text_of

__all__ = ["ChainInput", "ChainStep", "DEFAULT_CHAIN", "chaining_service", "call_chaining_service"]

EXAMPLE_REPORT = (
    "Q3 performance summary: customer satisfaction rose to 92 points, revenue grew 45% year over "
    "year, market share is now 23% in our primary market, and customer churn fell to 5% from 8%."
)


class ChainInput(BaseModel):
    """The text the chain starts from."""

    message: str = EXAMPLE_REPORT


@dataclass(frozen=True)
class ChainStep:
    """One link: ``prompt`` with ``{input}`` replaced by the previous output (the request text
    for the first step). ``label`` names the journaled step in the Restate UI."""

    label: str
    prompt: str

    def render(self, previous: str) -> str:
        # str.replace, not str.format: model output may contain braces
        return self.prompt.replace("{input}", previous)


DEFAULT_CHAIN: tuple[ChainStep, ...] = (
    ChainStep(
        "Extract metrics",
        "Extract every numerical value and its metric from the text. "
        "Write one 'Metric: Value' pair per line and nothing else.\n\nText:\n{input}",
    ),
    ChainStep(
        "Sort metrics",
        "Sort these lines in descending order by their numerical value. "
        "Keep the 'Metric: Value' format.\n\nLines:\n{input}",
    ),
    ChainStep(
        "Format table",
        "Format these metrics as a markdown table with the columns 'Metric' and 'Value'.\n\n"
        "Metrics:\n{input}",
    ),
)


def chaining_service(
    steps: Sequence[ChainStep] = DEFAULT_CHAIN,
    *,
    name: str = "CallChainingService",
    model: str | None = None,
) -> restate.Service:
    """A service whose ``process`` handler runs ``steps`` in order and returns the last output."""
    if not steps:
        raise ValueError("a chain needs at least one step")
    chain = tuple(steps)
    service = restate.Service(name)

    @service.handler()
    async def process(ctx: restate.Context, request: ChainInput) -> str:
        """Run the chain over the request text; each step is one journaled model call."""
        text = request.message
        for step in chain:
            text = text_of(await llm_step(ctx, step.label, step.render(text), model=model))
        return text

    return service


call_chaining_service = chaining_service()
