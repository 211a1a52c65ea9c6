"""The points where a test holds an ADK crash-app run (``tests/apps/adk_crash_app.py``), and the hold
itself. Kept apart from the app, so the test process reads them without importing ADK."""

from __future__ import annotations

import asyncio

from tests.apps._support import held_at, record_effect

PARALLEL_TOOLS = ("lookup_flight", "book_hotel")
APPROVED_TOOL = "pay_deposit"
TOOLS = (*PARALLEL_TOOLS, APPROVED_TOOL)
MODEL_CALLS = 3
HOLD_TIMEOUT = 600.0  # seconds a held run waits before failing (a test that forgot to release it)


def _points() -> list[str]:
    def model(turn: int) -> list[str]:
        return [f"model{turn}:call", f"model{turn}:answered", f"model{turn}:journaled"]

    return [
        "start",
        *model(1),
        *(f"{tool}:inside" for tool in PARALLEL_TOOLS),
        *(f"{tool}:journaled" for tool in PARALLEL_TOOLS),
        *model(2),
        f"{APPROVED_TOOL}:approved",
        f"{APPROVED_TOOL}:inside",
        f"{APPROVED_TOOL}:journaled",
        *model(3),
        "end",
    ]


POINTS: list[str] = _points()
"""Every point of a run where the app can be held: inside each step, and right after each step's
result was journaled."""


async def point(tag: str, name: str) -> None:
    """Hold the run here while ``crash-<tag>`` names this point (the test kills the service meanwhile)."""
    if held_at(tag) != name:
        return
    record_effect(f"reached:{name}:{tag}")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOLD_TIMEOUT
    while held_at(tag) == name:
        if loop.time() > deadline:
            raise TimeoutError(f"run {tag} was held at {name} and never released")
        await asyncio.sleep(0.02)
