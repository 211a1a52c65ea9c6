"""Prompt chaining: each model call transforms the previous call's output.

Every step is its own journaled call, so after a crash the chain resumes at the first step that
had not finished instead of paying for the earlier calls again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import restate
from pydantic import BaseModel

from integrations.testing import ModelRequest, Reply

from ._llm import llm_step, text_of
from ._offline import text
from ._pattern import Pattern

__all__ = ["PATTERN", "ChainInput", "ChainStep", "DEFAULT_CHAIN", "chaining_service", "offline_script"]

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
        "Format these metrics as a markdown table with the columns 'Metric' and 'Value'.\n\nMetrics:\n{input}",
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


# -- offline script ------------------------------------------------------------------------------
# Recognises each default step by the text of its prompt before ``{input}``.

_NUMBER_LINE = re.compile(
    r"(?:\band\s+)?([A-Za-z][A-Za-z ]*?)\s+(?:rose to|grew(?: by)?|is now at|is now|fell to|reached|at)\s+([\d.]+%?)"
)
_METRIC = re.compile(r"^\s*(.+?):\s*([\d.]+)(%?)\s*$")


def _extract(body: str) -> str:
    pairs = [f"{name.strip().capitalize()}: {value}" for name, value in _NUMBER_LINE.findall(body)]
    return "\n".join(pairs) or "Value: 0"


def _sort(body: str) -> str:
    metrics = [(line, m) for line in body.splitlines() if (m := _METRIC.match(line))]
    return "\n".join(line for line, m in sorted(metrics, key=lambda pair: -float(pair[1].group(2))))


def _format(body: str) -> str:
    rows = [m for line in body.splitlines() if (m := _METRIC.match(line))]
    table = ["| Metric | Value |", "| --- | --- |"]
    table += [f"| {m.group(1)} | {m.group(2)}{m.group(3)} |" for m in rows]
    return "\n".join(table)


_OFFLINE_STEPS: tuple[tuple[str, Callable[[str], str]], ...] = tuple(
    (step.prompt.split("{input}")[0], play)
    for step, play in zip(DEFAULT_CHAIN, (_extract, _sort, _format), strict=True)
)


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model's side of :data:`DEFAULT_CHAIN`: extracts, sorts and tabulates the
    metrics for real, so the chain's output is a table built from the input."""
    if request.system or request.tool_names():
        return None
    prompt = request.last_user_text
    for lead, play in _OFFLINE_STEPS:
        if prompt.startswith(lead):
            return text(play(prompt[len(lead) :]))
    return None


PATTERN = Pattern(defaults=lambda: {"call_chaining_service": chaining_service()}, offline_script=offline_script)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
