"""Tool calls that need a human's approval, resolved durably by DurableRunner."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from agents import Agent, RunConfig, RunContextWrapper, function_tool

from integrations.openai_agents import (
    ApprovalPolicy,
    ApprovalRequest,
    DurableRunner,
    PendingApprovals,
    RestateSession,
    pending_approvals,
    raise_restate_errors,
)
from tests.apps._support import record_effect


async def _transfer(amount: int, to: str) -> str:
    record_effect(f"transfer:{amount}:{to}")
    return f"sent {amount} to {to}"


@function_tool(needs_approval=True, failure_error_function=raise_restate_errors)
async def transfer(wrapper: RunContextWrapper[restate.Context], amount: int, to: str) -> str:
    """Send money (a person must approve every transfer)."""
    return await wrapper.context.run_typed("transfer", _transfer, amount=amount, to=to)


@function_tool
def balance() -> str:
    """The account balance (no approval needed)."""
    return "balance: 100"


def notify(request: ApprovalRequest) -> None:
    """The hook: tell someone (here: the effects file, so the test learns the awakeable id)."""
    record_effect(f"notify:{request.tool_name}:{request.arguments}:{request.awakeable_id}")


banker = Agent[restate.Context](name="Banker", instructions="Move money.", tools=[transfer, balance])
CONFIG = RunConfig(model="gpt-4o")

POLICIES = {
    "run": ApprovalPolicy(notify=notify),
    "reject_on_timeout": ApprovalPolicy(notify=notify, timeout=timedelta(seconds=1)),
    "approve_on_timeout": ApprovalPolicy(notify=notify, timeout=timedelta(seconds=1), on_timeout=True),
}

# Restate suspends an invocation that waits after its inactivity timeout (1 minute by default);
# a short one lets the test see the waiting invocation suspended without waiting a minute.
bank = restate.Service("bank", inactivity_timeout=timedelta(seconds=1))


@bank.handler()
async def run(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(banker, message, context=ctx, run_config=CONFIG, approvals=POLICIES["run"])
    return result.final_output_as(str)


@bank.handler()
async def reject_on_timeout(ctx: restate.Context, message: str) -> str:
    policy = POLICIES["reject_on_timeout"]
    result = await DurableRunner.run(banker, message, context=ctx, run_config=CONFIG, approvals=policy)
    return result.final_output_as(str)


@bank.handler()
async def approve_on_timeout(ctx: restate.Context, message: str) -> str:
    policy = POLICIES["approve_on_timeout"]
    result = await DurableRunner.run(banker, message, context=ctx, run_config=CONFIG, approvals=policy)
    return result.final_output_as(str)


@bank.handler()
async def interrupted(ctx: restate.Context, message: str) -> dict[str, Any]:
    """approvals=None: the SDK's interrupted result comes back, as from Runner.run."""
    result = await DurableRunner.run(banker, message, context=ctx, run_config=CONFIG, approvals=None)
    return {"pending": [item.name for item in result.interruptions], "output": result.final_output}


# --- a Virtual Object: one conversation per key, pending approvals listed from a shared handler -----
desk = restate.VirtualObject("Desk", inactivity_timeout=timedelta(seconds=1))


@desk.handler()
async def ask(ctx: restate.ObjectContext, message: str) -> str:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx)
    result = await DurableRunner.run(
        banker, message, context=ctx, run_config=CONFIG, session=session, approvals=POLICIES["run"]
    )
    return result.final_output_as(str)


@desk.handler(kind="shared")
async def pending(ctx: restate.ObjectSharedContext) -> PendingApprovals:
    return await pending_approvals(ctx)


@desk.handler(kind="shared")
async def history(ctx: restate.ObjectSharedContext) -> list[Any]:
    return await RestateSession.history(ctx)


app = restate.app([bank, desk])
