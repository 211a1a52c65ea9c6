"""Multi-agent: an intake agent hands the claim to the specialist ADK sub-agent that fits.

Try it: the "multi-agent" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

ADK's own ``sub_agents`` transfer (``transfer_to_agent``); every agent of the tree is made durable by
the one ``DurablePlugin``. The session remembers who answered last: the next message of the same
session goes to that specialist directly.
"""

from __future__ import annotations

from google.adk.agents import LlmAgent

from .utils import claim_object, durable_app, model

medical_agent = LlmAgent(
    model=model(),
    name="medical_specialist",
    description="Reviews medical insurance claims for coverage and necessity.",
    instruction="Review medical claims for coverage and necessity. Approve/deny up to $50,000.",
)

car_agent = LlmAgent(
    model=model(),
    name="car_specialist",
    description="Assesses car insurance claims for liability and damage.",
    instruction="Assess car claims for liability and damage. Approve/deny up to $25,000.",
)

agent = LlmAgent(
    model=model(),
    name="intake_agent",
    instruction="Route insurance claims to the appropriate specialist",
    sub_agents=[car_agent, medical_agent],
)

app = durable_app("multi_agent", agent)

# run(claim): the claim, as "Claim: {...}", to the agent in the claim's session of this user
agent_service = claim_object("MultiAgentClaimApproval", app)
