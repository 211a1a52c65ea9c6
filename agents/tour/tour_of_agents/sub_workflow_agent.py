"""Chapter "sub-workflow": the approval lives in its own service, called durably from the tool.

    curl localhost:8080/SubWorkflowClaimApprovalAgent/run/send \\
      --json '{"message": "Process my hospital bill of 3000USD for a broken leg."}'

``HumanApprovalWorkflow/requestApproval`` prints the resolve command and waits; the agent's tool
waits for that call, so the UI shows the sub-invocation under the agent's invocation.
"""

from __future__ import annotations

import restate
from agents import Agent, RunContextWrapper, Runner, function_tool

from integrations.openai_agents import raise_restate_errors

from .utils.models import ClaimPrompt, InsuranceClaim
from .utils.utils import durable_run_config, request_human_review

# The approval as a service of its own, callable from any agent
human_approval_workflow = restate.Service("HumanApprovalWorkflow")


@human_approval_workflow.handler("requestApproval")
async def request_approval(restate_context: restate.Context, claim: InsuranceClaim) -> str:
    """Request human approval for a claim and wait for the response."""
    # A durable promise that a person completes over HTTP
    approval_id, approval_promise = restate_context.awakeable(type_hint=str)

    # Tell the reviewer how to answer (journaled: printed once, not on replays)
    await restate_context.run_typed("Request review", request_human_review, claim=claim, awakeable_id=approval_id)

    # Suspend until the answer arrives
    return await approval_promise


@function_tool(failure_error_function=raise_restate_errors)
async def human_approval(wrapper: RunContextWrapper[restate.Context], claim: InsuranceClaim) -> str:
    """Ask for human approval for high-value claims using sub-workflow."""
    restate_context = wrapper.context

    # A durable call: the agent waits for the workflow's answer, across restarts
    return await restate_context.service_call(request_approval, claim)


sub_workflow_agent = Agent[restate.Context](
    name="ClaimApprovalAgent",
    instructions="You are an insurance claim evaluation agent. "
    "Use these rules: if the amount is more than 1000, ask for human approval; "
    "if the amount is less than 1000, decide by yourself.",
    tools=[human_approval],
)


agent_service = restate.Service("SubWorkflowClaimApprovalAgent")


@agent_service.handler()
async def run(restate_context: restate.Context, prompt: ClaimPrompt) -> str:
    result = await Runner.run(
        sub_workflow_agent,
        input=prompt.message,
        context=restate_context,
        run_config=durable_run_config(restate_context),
    )
    return result.final_output
