"""Agents SDK pieces that write down what ran, for tests that count it: two tools (a random result,
a side effect) and run hooks that record every callback.

The transparency app and the conformance programs both use them: they check the same thing (under
DurableRunner a tool body and a hook run once per event, however often the run is replayed) and
differ only in where a line goes, the ``record`` each passes in.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from agents import FunctionTool, RunHooks, function_tool

Record = Callable[[str], None]
"""Where a line goes: ``tests.apps._support.record_effect``, or a wrapper that tags it."""


def dice_tool(record: Record) -> FunctionTool:
    """``roll_dice``: a random number, recorded as ``roll=<value>`` (the value differs between runs,
    so a comparison can name it instead of comparing it)."""

    def roll_dice() -> str:
        """Roll a random number."""
        value = f"{random.random():.9f}"
        record(f"roll={value}")
        return value

    return function_tool(roll_dice)


def email_tool(record: Record) -> FunctionTool:
    """``send_email``: a side effect, recorded as ``email:<to>``."""

    async def send_email(to: str) -> str:
        """Send an email."""
        record(f"email:{to}")
        return f"sent to {to}"

    return function_tool(send_email)


class RecordingRunHooks(RunHooks[Any]):
    """One ``{prefix}:{event}:{name}`` line through ``record`` per callback (``name``: the agent's, the
    tool's, or ``from->to`` for a handoff); ``prefix`` tells these lines from the tools' own."""

    def __init__(self, record: Record, prefix: str) -> None:
        self._record = record
        self._prefix = prefix

    def _write(self, event: str, name: str) -> None:
        self._record(f"{self._prefix}:{event}:{name}")

    async def on_agent_start(self, context: Any, agent: Any) -> None:
        self._write("agent_start", agent.name)

    async def on_llm_start(self, context: Any, agent: Any, system_prompt: Any, input_items: Any) -> None:
        self._write("llm_start", agent.name)

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        self._write("llm_end", agent.name)

    async def on_tool_start(self, context: Any, agent: Any, tool: Any) -> None:
        self._write("tool_start", tool.name)

    async def on_tool_end(self, context: Any, agent: Any, tool: Any, result: object) -> None:
        self._write("tool_end", tool.name)

    async def on_handoff(self, context: Any, from_agent: Any, to_agent: Any) -> None:
        self._write("handoff", f"{from_agent.name}->{to_agent.name}")

    async def on_agent_end(self, context: Any, agent: Any, output: Any) -> None:
        self._write("agent_end", agent.name)
