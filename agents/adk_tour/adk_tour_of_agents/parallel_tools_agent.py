"""Parallel tool steps: one tool runs three durable steps at once.

Try it: the "parallel tool steps" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

``calculate_metrics`` starts the eligibility, cost and fraud steps together and gathers them; each
is journaled, so a retry re-runs only what had not finished. (Unlike ``restate.ext.adk``, this
adapter also runs several tool calls of one model turn concurrently: see ``remote_agents``.)
"""

from __future__ import annotations

import restate
from google.adk.agents import LlmAgent

from integrations.google_adk import restate_context

from .utils import (
    InsuranceClaim,
    check_eligibility,
    check_fraud,
    compare_to_standard_rates,
    durable_app,
    model,
    run_agent,
)


async def calculate_metrics(claim: InsuranceClaim) -> list[str]:
    """Calculate claim metrics using parallel execution."""
    ctx = restate_context()
    steps = [
        ctx.run_typed("eligibility", check_eligibility, claim=claim),
        ctx.run_typed("cost", compare_to_standard_rates, claim=claim),
        ctx.run_typed("fraud", check_fraud, claim=claim),
    ]
    await restate.gather(*steps)
    return [await step for step in steps]


agent = LlmAgent(
    model=model(),
    name="parallel_tools_agent",
    instruction="You are a claim analysis agent that analyzes insurance claims. "
    "Use your tools to calculate key metrics and decide whether to approve the claim.",
    tools=[calculate_metrics],
)

app = durable_app("parallel_tools", agent)

agent_service = restate.VirtualObject("ParallelToolClaimAgent")


@agent_service.handler()
async def run(ctx: restate.ObjectContext, claim: InsuranceClaim) -> str:
    prompt = f"Analyze the claim: {claim.model_dump_json(exclude={'session_id'})}."
    return await run_agent(app, prompt, user_id=ctx.key(), session_id=claim.session_id)
