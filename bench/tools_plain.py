"""The ``tools`` part's agent on plain openai-agents ``Runner.run``: no Restate, no journal."""

from __future__ import annotations

from agents import RunConfig, Runner

from bench._plain_asgi import runner_app
from bench._tools_agent import MODEL, agent


async def run(message: str) -> str:
    result = await Runner.run(agent, message, run_config=RunConfig(model=MODEL))
    return str(result.final_output)


app = runner_app({"/run": run})
