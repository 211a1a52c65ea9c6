"""Human in the loop: claims above 1000 wait for a person's approval, for as long as it takes.

Try it: the "human approval" examples of ``agents/adk_tour/launch.toml`` (``./dev up adk_tour`` prints them).

The service log then shows the ``approve: curl .../restate/awakeables/<id>/resolve --json 'true'``
command (and the reject one). The invocation suspends until someone runs it, across restarts of the
service; the model is not asked again when it resumes.
"""

from __future__ import annotations

import restate

from .utils import ClaimPrompt, claim_agent, durable_app, run_agent

app = durable_app("claims", claim_agent())

agent_service = restate.VirtualObject("HumanClaimApprovalAgent")


@agent_service.handler()
async def run(ctx: restate.ObjectContext, req: ClaimPrompt) -> str:
    return await run_agent(app, req.message, user_id=ctx.key(), session_id=req.session_id)
