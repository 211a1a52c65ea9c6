"""Chapter "approval with timeout": wait for the reviewer at most 3 hours, then fall back.

    curl localhost:8080/HumanClaimApprovalWithTimeoutsAgent/run/send \\
      --json '{"message": "Process my hospital bill of 3000USD for a broken leg."}'

The timer is durable: after a restart the wait continues with the remaining time. To try the
timeout without waiting 3 hours, start the service with ``APPROVAL_TIMEOUT_SECONDS=30``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import restate
from agents import Agent, RunContextWrapper, Runner, function_tool

from integrations.openai_agents import raise_restate_errors

from .utils.models import ClaimPrompt, InsuranceClaim
from .utils.utils import durable_run_config, request_human_review

APPROVAL_TIMEOUT = timedelta(seconds=float(os.environ.get("APPROVAL_TIMEOUT_SECONDS", 3 * 60 * 60)))
"""The review SLA: 3 hours as in the tour, or ``APPROVAL_TIMEOUT_SECONDS``."""


@function_tool(failure_error_function=raise_restate_errors)
async def human_approval(wrapper: RunContextWrapper[restate.Context], claim: InsuranceClaim) -> str:
    """Ask for human approval for high-value claims."""
    restate_context = wrapper.context

    # A durable promise that a person completes over HTTP
    approval_id, approval_promise = restate_context.awakeable(type_hint=bool)

    # Tell the reviewer how to answer (journaled: printed once, not on replays)
    await restate_context.run_typed("Request review", request_human_review, claim=claim, awakeable_id=approval_id)

    # Race the answer against a durable timer: whichever completes first wins
    match await restate.select(
        approval=approval_promise,
        timeout=restate_context.sleep(APPROVAL_TIMEOUT),
    ):
        case ["approval", approved]:
            return "Approved" if approved else "Rejected"
        case _:
            return "Approval timed out - Evaluate with AI"


claim_approval_agent = Agent[restate.Context](
    name="HumanClaimApprovalAgent",
    instructions="You are an insurance claim evaluation agent. "
    "Use these rules: if the amount is more than 1000, ask for human approval; "
    "if the amount is less than 1000, decide by yourself.",
    tools=[human_approval],
)


agent_service = restate.Service("HumanClaimApprovalWithTimeoutsAgent")


@agent_service.handler()
async def run(restate_context: restate.Context, prompt: ClaimPrompt) -> str:
    result = await Runner.run(
        claim_approval_agent,
        input=prompt.message,
        context=restate_context,
        run_config=durable_run_config(restate_context),
    )
    return result.final_output
