"""The ``tools`` part's agent on plain openai-agents ``Runner.run``: no Restate, no journal.

``POST /run`` runs it; ``POST /peer`` runs the peer part's plain agent (``bench/agent_plain.py``),
the reference rows of the ``tools`` part: one process less to start.
"""

from __future__ import annotations

from agents import RunConfig, Runner

from bench._plain_asgi import runner_app
from bench._tools_agent import MODEL, agent
from bench.agent_plain import run as run_peer


async def run(message: str) -> str:
    result = await Runner.run(agent, message, run_config=RunConfig(model=MODEL))
    return str(result.final_output)


app = runner_app({"/run": run, "/peer": run_peer})
