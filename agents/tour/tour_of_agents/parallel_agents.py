"""Chapter "parallel agents": three specialist agents run at once, then one agent decides.

    curl localhost:8080/ParallelAgentClaimApproval/run --json '{"date":"2024-10-01",
      "category":"orthopedic","reason":"hospital bill for a broken leg","amount":3000,
      "placeOfService":"General Hospital"}'

Each analysis is a durable call to another service: after a crash, finished analyses are not run again.
"""

from __future__ import annotations

import restate
from agents import Agent, Runner

from .utils.models import InsuranceClaim
from .utils.utils import durable_run_config, run_eligibility_agent, run_fraud_agent, run_rate_comparison_agent

agent_service = restate.Service("ParallelAgentClaimApproval")


@agent_service.handler()
async def run(restate_context: restate.Context, claim: InsuranceClaim) -> str:
    # Three durable calls, all started before any is awaited
    eligibility = restate_context.service_call(run_eligibility_agent, claim)
    cost = restate_context.service_call(run_rate_comparison_agent, claim)
    fraud = restate_context.service_call(run_fraud_agent, claim)

    # Wait until every analysis is back
    await restate.gather(eligibility, cost, fraud)

    # One more agent decides from the three analyses
    result = await Runner.run(
        Agent(name="ClaimApprovalAgent", instructions="You are a claim decision engine."),
        input=f"Decide about claim: {claim.model_dump_json()}. "
        "Base your decision on the following analyses: "
        f"Eligibility: {await eligibility} Cost: {await cost} Fraud: {await fraud}",
        run_config=durable_run_config(restate_context),
    )
    return result.final_output
