"""Parallel agents: three specialist agents at once, then a decision agent on their answers.

Try it: the "parallel agents" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

The three calls are durable service calls started together: all three are in flight at once, each
retried and recovered by Restate; the handler suspends until they are all back.
"""

from __future__ import annotations

import restate
from google.adk.agents import LlmAgent

from .specialists import run_eligibility_agent, run_fraud_agent, run_rate_comparison_agent
from .utils import InsuranceClaim, durable_app, model, run_agent

agent = LlmAgent(
    model=model(),
    name="claim_decision_agent",
    instruction="You are a claim decision engine. Analyze the provided assessments and make a final approval decision.",
)

app = durable_app("parallel_agents", agent)

agent_service = restate.VirtualObject("ParallelAgentClaimApproval")


@agent_service.handler()
async def run(ctx: restate.ObjectContext, claim: InsuranceClaim) -> str:
    # Start multiple agents in parallel with auto retries and recovery
    eligibility = ctx.service_call(run_eligibility_agent, arg=claim)
    cost = ctx.service_call(run_rate_comparison_agent, arg=claim)
    fraud = ctx.service_call(run_fraud_agent, arg=claim)
    await restate.gather(eligibility, cost, fraud)

    # Run the decision agent on their outputs
    prompt = (
        f"Decide about claim: {claim.model_dump_json(exclude={'session_id'})}. Assessments:\n"
        f"Eligibility: {await eligibility} Cost: {await cost} Fraud: {await fraud}"
    )
    return await run_agent(app, prompt, user_id=ctx.key(), session_id=claim.session_id)
