"""The specialist agents the remote-agents and parallel-agents chapters call over Restate.

Each is its own Restate service (``EligibilityAgent``, ``RateComparisonAgent``, ``FraudAgent``),
so it can be deployed and scaled apart from its callers; a call to it is journaled by the caller,
which may suspend while the specialist works. Each run is a fresh session (the callers pass
whatever context it needs in the claim).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import restate
from google.adk.agents import LlmAgent

from .utils import InsuranceClaim, durable_app, fresh_sessions, model, run_agent

Handler = Callable[[restate.Context, InsuranceClaim], Awaitable[str]]

# service and handler name, agent name, description, instruction: as in the upstream tour
SPECIALISTS = [
    (
        "EligibilityAgent",
        "run_eligibility_agent",
        "EligibilityAgent",
        "Decide whether the following claim is eligible for reimbursement.",
        "Respond with eligible if it's a medical claim, and not eligible otherwise.",
    ),
    (
        "RateComparisonAgent",
        "run_rate_comparison_agent",
        "RateComparisonAgent",
        "Decide whether the cost of the claim is reasonable given the treatment.",
        "Respond with reasonable or not reasonable.",
    ),
    (
        "FraudAgent",
        "run_fraud_agent",
        "FraudCheckAgent",
        "Decide whether the claim is fraudulent.",
        "Always respond with low risk, medium risk, or high risk.",
    ),
]


def _specialist(service_name: str, handler_name: str, agent: LlmAgent) -> tuple[restate.Service, Handler]:
    """A ``Service`` whose one handler runs ``agent`` on a claim; returns the service and the handler
    (what callers pass to ``ctx.service_call``)."""
    app = durable_app(agent.name, agent)
    service = restate.Service(service_name)

    @service.handler(name=handler_name)
    async def run(ctx: restate.Context, claim: InsuranceClaim) -> str:
        return await run_agent(
            app, claim.prompt(), user_id=service_name, session_id=claim.session_id, sessions=fresh_sessions()
        )

    return service, run


services: list[restate.Service] = []
"""The three specialist services, for the app to serve."""
handlers: dict[str, Handler] = {}
for _service_name, _handler_name, _name, _description, _instruction in SPECIALISTS:
    _agent = LlmAgent(model=model(), name=_name, description=_description, instruction=_instruction)
    _service, handlers[_handler_name] = _specialist(_service_name, _handler_name, _agent)
    services.append(_service)

run_eligibility_agent = handlers["run_eligibility_agent"]
run_rate_comparison_agent = handlers["run_rate_comparison_agent"]
run_fraud_agent = handlers["run_fraud_agent"]
