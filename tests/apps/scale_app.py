"""Served by the scale load run (bench/scale.py, ``./dev chaos --cluster 3 --services 2 --sessions N``).

``Session/<key>/message``: one chat turn of an OpenAI Agents SDK agent (model calls journaled by
``DurableModelCalls``, answered by the load run's scripted model) whose ``transfer`` tool waits for
a person's approval (``await_approval``: announced on the topic ``Session:<key>``). Each process
that runs a tool appends ``<pid> <key>`` to ``SCALE_RUNS_FILE``, so the run can tell how the work
spread over the service processes.
"""

from __future__ import annotations

import os

import restate
from agents import Agent, RunConfig, RunContextWrapper, Runner, function_tool
from pydantic import BaseModel

from integrations.openai_agents import DurableModelCalls, raise_restate_errors
from integrations.streams import TopicPublisher, agent_events, await_approval


class Turn(BaseModel):
    message: str


@function_tool(failure_error_function=raise_restate_errors)
async def transfer(wrapper: RunContextWrapper[restate.ObjectContext], amount: int) -> str:
    """Transfer money once a person approved it."""
    ctx = wrapper.context
    runs = os.environ.get("SCALE_RUNS_FILE")
    if runs:
        _append(runs, f"{os.getpid()} {ctx.key()}\n")
    approved = await await_approval(ctx, f"Transfer {amount}?", events=TopicPublisher(f"Session:{ctx.key()}"))
    return f"transferred {amount}" if approved else "declined"


agent = Agent(name="Teller", instructions="Move money when asked.", tools=[transfer])
session = restate.VirtualObject("Session")


@session.handler()
async def message(ctx: restate.ObjectContext, turn: Turn) -> str:
    config = RunConfig(model="gpt-4o", model_provider=DurableModelCalls(ctx))
    result = await Runner.run(agent, turn.message, context=ctx, run_config=config)
    return str(result.final_output)


app = restate.app([session, agent_events])


def _append(path: str, line: str) -> None:
    """A line to a file the test reads (small, local: no need for a thread)."""
    with open(path, "a") as file:
        file.write(line)
