"""Chapter "multi-agent": an intake agent hands a claim off to a specialist, in one process.

    curl localhost:8080/MultiAgentClaimApproval/session123/run --json '{"date":"2024-10-01",
      "category":"orthopedic","reason":"hospital bill for a broken leg","amount":3000,
      "placeOfService":"General Hospital"}'

Each key is one claim conversation: its history and the agent that answered last are kept in
the object's state, so the next call for that key continues with the same specialist.
"""

from __future__ import annotations

import restate
from agents import Agent, Runner

from integrations.openai_agents import RestateSession

from .utils.models import InsuranceClaim
from .utils.utils import durable_run_config

intake_agent = Agent[restate.ObjectContext](
    name="IntakeAgent",
    instructions="Route insurance claims to the appropriate specialist: medical, auto, or property.",
)

medical_specialist = Agent[restate.ObjectContext](
    name="MedicalSpecialist",
    handoff_description="I handle medical insurance claims from intake to final decision.",
    instructions="Review medical claims for coverage and necessity. Approve/deny up to $50,000.",
)

auto_specialist = Agent[restate.ObjectContext](
    name="AutoSpecialist",
    handoff_description="I handle auto insurance claims from intake to final decision.",
    instructions="Assess auto claims for liability and damage. Approve/deny up to $25,000.",
)

# The intake agent may hand the conversation to either specialist
intake_agent.handoffs = [medical_specialist, auto_specialist]

agent_dict = {
    "IntakeAgent": intake_agent,
    "MedicalSpecialist": medical_specialist,
    "AutoSpecialist": auto_specialist,
}

agent_service = restate.VirtualObject("MultiAgentClaimApproval")


@agent_service.handler()
async def run(restate_context: restate.ObjectContext, claim: InsuranceClaim) -> str:
    # Continue with the agent that answered last (kept in Restate's key-value store)
    last_agent_name = await restate_context.get("last_agent_name", type_hint=str) or "IntakeAgent"
    last_agent = agent_dict.get(last_agent_name, intake_agent)

    restate_session = await RestateSession.create(session_id=restate_context.key(), ctx=restate_context)
    result = await Runner.run(
        last_agent,
        input=f"Claim: {claim.model_dump_json()}",
        context=restate_context,
        run_config=durable_run_config(restate_context),
        session=restate_session,
    )

    restate_context.set("last_agent_name", result.last_agent.name)

    return result.final_output
