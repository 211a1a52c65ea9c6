"""Workflows as tools: the approval is a Restate service of its own, called from the agent's tool.

Try it: the "sub-workflow" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

``HumanApprovalWorkflow.review`` prints the resolve command and waits on its awakeable; the agent's
``human_approval`` tool calls it with ``restate_context().service_call(...)`` (a tool that does its
own Restate steps is not journaled whole: the call is), and suspends until the review returns.
"""

from __future__ import annotations

import restate
from google.adk.agents import LlmAgent

from integrations.google_adk import restate_context

from .utils import CLAIM_RULES, ClaimPrompt, InsuranceClaim, durable_app, model, request_review, run_agent

# Sub-workflow service for human approval
human_approval_workflow = restate.Service("HumanApprovalWorkflow")


@human_approval_workflow.handler()
async def review(ctx: restate.Context, claim: InsuranceClaim) -> str:
    """Request human approval for a claim and wait for the response."""
    approval_id, approval = ctx.awakeable(type_hint=bool)
    await ctx.run_typed("Request review", request_review, claim=claim, awakeable_id=approval_id)
    return "approved" if await approval else "rejected"


async def human_approval(claim: InsuranceClaim) -> str:
    """Ask for human approval for high-value claims."""
    return await restate_context().service_call(review, arg=claim)


agent = LlmAgent(model=model(), name="claim_approval_agent", instruction=CLAIM_RULES, tools=[human_approval])
app = durable_app("claims_sub_workflow", agent)

agent_service = restate.VirtualObject("SubWorkflowClaimAgent")


@agent_service.handler()
async def run(ctx: restate.ObjectContext, req: ClaimPrompt) -> str:
    return await run_agent(app, req.message, user_id=ctx.key(), session_id=req.session_id)
