"""Remote agents: the coordinator's tools call specialist agents that run as Restate services.

Try it: the "remote agents" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

Each tool is a durable service call (``restate_context().service_call(...)``): Restate delivers it,
retries it and keeps its result; the coordinator suspends while the specialists work. The model
asks for both tools in one turn and ``DurablePlugin`` runs them concurrently, journaled in the
model's order. (Upstream names this service ``MultiAgentClaimApproval`` too; one app cannot serve
two services of that name, so it keeps the tour's earlier name.)
"""

from __future__ import annotations

from google.adk.agents import LlmAgent

from integrations.google_adk import restate_context

from .specialists import run_eligibility_agent, run_fraud_agent
from .utils import InsuranceClaim, claim_object, durable_app, model


async def check_eligibility(claim: InsuranceClaim) -> str:
    """Analyze claim eligibility."""
    return await restate_context().service_call(run_eligibility_agent, arg=claim)


# Durable service call to the fraud agent; persisted and retried by Restate
async def check_fraud(claim: InsuranceClaim) -> str:
    """Analyze the probability of fraud."""
    return await restate_context().service_call(run_fraud_agent, arg=claim)


agent = LlmAgent(
    model=model(),
    name="ClaimApprovalCoordinator",
    instruction="You are a claim approval engine. "
    "Analyze the claim and use your tools to decide whether to approve it.",
    tools=[check_fraud, check_eligibility],
)

app = durable_app("remote_agents", agent)

# run(claim): the claim, as "Claim: {...}", to the agent in the claim's session of this user
agent_service = claim_object("RemoteMultiAgentClaimApproval", app)
