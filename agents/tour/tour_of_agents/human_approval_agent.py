"""Chapter "human approval": the agent asks a person before approving a high-value claim.

    curl localhost:8080/HumanClaimApprovalAgent/run/send \\
      --json '{"message": "Process my hospital bill of 3000USD for a broken leg."}'

The ``Request review`` step prints a ready-to-run ``curl .../restate/awakeables/<id>/resolve``
command; the invocation waits (and survives restarts) until someone runs it.
"""

from __future__ import annotations

import restate
from agents import Agent, RunContextWrapper, Runner, function_tool

from integrations.openai_agents import raise_restate_errors

from .utils.models import ClaimPrompt, InsuranceClaim
from .utils.utils import durable_run_config, request_human_review


@function_tool(failure_error_function=raise_restate_errors)
async def human_approval(wrapper: RunContextWrapper[restate.Context], claim: InsuranceClaim) -> str:
    """Ask for human approval for high-value claims."""
    restate_context = wrapper.context

    # A durable promise that a person completes over HTTP
    approval_id, approval_promise = restate_context.awakeable(type_hint=str)

    # Tell the reviewer how to answer (journaled: printed once, not on replays)
    await restate_context.run_typed("Request review", request_human_review, claim=claim, awakeable_id=approval_id)

    # Suspend until the answer arrives; a restart keeps waiting
    return await approval_promise


claim_approval_agent = Agent[restate.Context](
    name="HumanClaimApprovalAgent",
    instructions="You are an insurance claim evaluation agent. "
    "Use these rules: if the amount is more than 1000, ask for human approval; "
    "if the amount is less than 1000, decide by yourself.",
    tools=[human_approval],
)


agent_service = restate.Service("HumanClaimApprovalAgent")


@agent_service.handler()
async def run(restate_context: restate.Context, prompt: ClaimPrompt) -> str:
    result = await Runner.run(
        claim_approval_agent,
        input=prompt.message,
        context=restate_context,
        run_config=durable_run_config(restate_context),
    )
    return result.final_output
