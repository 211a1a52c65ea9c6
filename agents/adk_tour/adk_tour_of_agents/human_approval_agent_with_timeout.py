"""Human in the loop with a deadline: no decision within 3 hours, and the agent decides itself.

Try it: the "human approval with timeout" example of ``agents/adk_tour/launch.toml``.

``DurablePlugin(approval_timeout=...)`` races the approval's awakeable against a durable timer
(``APPROVAL_TIMEOUT_SECONDS`` shortens the tour's 3 hours); a timeout rejects the call with the hint
``APPROVAL_TIMED_OUT``, which ``utils.decision_as_answer`` turns into
"Approval timed out - Evaluate with AI" for the model.
"""

from __future__ import annotations

import os
from datetime import timedelta

import restate

from .utils import ClaimPrompt, claim_agent, durable_app, run_agent

# Wait for human approval for at most 3 hours to reach our SLA
APPROVAL_TIMEOUT = timedelta(seconds=float(os.environ.get("APPROVAL_TIMEOUT_SECONDS", 3 * 60 * 60)))

app = durable_app("claims_with_timeout", claim_agent(), approval_timeout=APPROVAL_TIMEOUT)

agent_service = restate.VirtualObject("HumanClaimApprovalWithTimeoutsAgent")


@agent_service.handler()
async def run(ctx: restate.ObjectContext, req: ClaimPrompt) -> str:
    return await run_agent(app, req.message, user_id=ctx.key(), session_id=req.session_id)
