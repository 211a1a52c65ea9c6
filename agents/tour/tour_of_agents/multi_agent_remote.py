"""Chapter "remote agents": the coordinator's tools call agents that run as their own services.

    curl localhost:8080/RemoteMultiAgentClaimApproval/run --json '{"date":"2024-10-01",
      "category":"orthopedic","reason":"hospital bill for a broken leg","amount":3000,
      "placeOfService":"General Hospital"}'

Each call to ``FraudAgent`` / ``EligibilityAgent`` is a durable service call: journaled, retried
and visible in the UI as a sub-invocation.
"""

from __future__ import annotations

import restate
from agents import Agent, RunContextWrapper, Runner, function_tool

from integrations.openai_agents import raise_restate_errors

from .utils.models import InsuranceClaim
from .utils.utils import durable_run_config, run_eligibility_agent, run_fraud_agent


# A tool that is a remote agent: the call is journaled, and Restate delivers and retries it
@function_tool(failure_error_function=raise_restate_errors)
async def check_eligibility(wrapper: RunContextWrapper[restate.Context], claim: InsuranceClaim) -> str:
    """Analyze claim eligibility."""
    restate_context = wrapper.context
    return await restate_context.service_call(run_eligibility_agent, claim)


# The same for the fraud check
@function_tool(failure_error_function=raise_restate_errors)
async def check_fraud(wrapper: RunContextWrapper[restate.Context], claim: InsuranceClaim) -> str:
    """Analyze the probability of fraud."""
    restate_context = wrapper.context
    return await restate_context.service_call(run_fraud_agent, claim)


claim_approval_coordinator = Agent[restate.Context](
    name="ClaimApprovalCoordinator",
    instructions="You are a claim approval engine. "
    "Analyze the claim and use your tools to decide whether to approve it.",
    tools=[check_fraud, check_eligibility],
)

agent_service = restate.Service("RemoteMultiAgentClaimApproval")


@agent_service.handler()
async def run(restate_context: restate.Context, claim: InsuranceClaim) -> str:
    result = await Runner.run(
        claim_approval_coordinator,
        input=f"Claim: {claim.model_dump_json()}",
        context=restate_context,
        run_config=durable_run_config(restate_context),
    )
    return result.final_output
