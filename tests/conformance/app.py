"""The conformance programs as one Restate service: ``conformance/run`` takes a program's name.

The handler is the one change a user makes: ``Runner`` becomes ``DurableRunner`` with the handler's
context. A bounded retry policy ends an invocation that keeps failing, so a defect shows as a failed
call instead of a run left retrying.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from agents import Agent

from integrations.openai_agents import DurableRunner
from tests.conformance.programs import PROGRAM, PROGRAMS

service = restate.Service(
    "conformance",
    invocation_retry_policy=restate.InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100),
        max_interval=timedelta(seconds=1),
        max_attempts=40,
        on_max_attempts="kill",
    ),
)


class Durable:
    """``DurableRunner`` with ``context=ctx`` unless the program passes a context of its own."""

    def __init__(self, ctx: restate.Context) -> None:
        self.ctx = ctx

    async def run(self, starting_agent: Agent[Any], input: str, **kwargs: Any) -> Any:
        kwargs.setdefault("context", self.ctx)
        return await DurableRunner.run(starting_agent, input, **kwargs)

    def run_streamed(self, starting_agent: Agent[Any], input: str, **kwargs: Any) -> Any:
        kwargs.setdefault("context", self.ctx)
        return DurableRunner.run_streamed(starting_agent, input, **kwargs)


@service.handler()
async def run(ctx: restate.Context, name: str) -> Any:
    PROGRAM.set(name)
    return await PROGRAMS[name](Durable(ctx))


app = restate.app([service])
