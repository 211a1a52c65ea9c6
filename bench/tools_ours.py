"""The ``tools`` part's agent on this toolkit's ``DurableRunner`` (served like any deployment).

``defaults`` calls ``DurableRunner.run`` with no options, so it measures whatever the installed
toolkit does by default. For reference, ``sequential`` passes ``sequential_tools=True`` (one tool
at a time) and ``concurrent`` passes ``sequential_tools=False`` (the SDK runs a turn's tools
concurrently).

The app also serves the peer part's ``BenchOurs`` (``bench/agent_ours.py``), the reference rows of
the ``tools`` part: one process less to start.
"""

from __future__ import annotations

import restate
from agents import RunConfig

from bench._tools_agent import MODEL, agent
from bench.agent_ours import service as peer_service
from integrations.openai_agents import DurableRunner

service = restate.Service("BenchTools")


@service.handler()
async def defaults(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(agent, message, context=ctx, run_config=RunConfig(model=MODEL))
    return str(result.final_output)


@service.handler()
async def sequential(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(
        agent, message, context=ctx, run_config=RunConfig(model=MODEL), sequential_tools=True
    )
    return str(result.final_output)


@service.handler()
async def concurrent(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(
        agent, message, context=ctx, run_config=RunConfig(model=MODEL), sequential_tools=False
    )
    return str(result.final_output)


app = restate.app([service, peer_service])
