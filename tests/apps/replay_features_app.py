"""Agents as tools, guardrails, handoff cycles with sessions, and every Runner.run parameter, under
DurableRunner (run on the always-replay server too)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import restate
from agents import (
    Agent,
    GuardrailFunctionOutput,
    RunConfig,
    RunContextWrapper,
    function_tool,
    input_guardrail,
    output_guardrail,
)
from agents.run_error_handlers import RunErrorHandlerInput, RunErrorHandlerResult
from agents.run_state import RunState
from pydantic import BaseModel

from integrations.openai_agents import DurableRunner, RestateSession
from tests.apps._support import record_effect

CONFIG = RunConfig(model="gpt-4o")


# --- agents as tools -----------------------------------------------------------------------------
async def _lookup(topic: str) -> str:
    record_effect(f"lookup:{topic}")
    return f"notes on {topic}"


@function_tool
async def lookup(wrapper: RunContextWrapper[restate.Context], topic: str) -> str:
    """Look a topic up (one journaled step)."""
    return await wrapper.context.run_typed("lookup", _lookup, topic=topic)


researcher = Agent[restate.Context](name="Researcher", instructions="Research the topic.", tools=[lookup])
writer = Agent[restate.Context](
    name="Writer",
    instructions="Write an article using research.",
    tools=[researcher.as_tool(tool_name="research", tool_description="Research a topic.")],
)

editor = Agent[restate.Context](
    name="Editor",
    instructions="Research and look up at once.",
    tools=[researcher.as_tool(tool_name="research", tool_description="Research a topic."), lookup],
)

features = restate.Service("features")


@features.handler()
async def write(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(writer, message, context=ctx, run_config=CONFIG)
    return result.final_output_as(str)


@features.handler()
async def edit(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(editor, message, context=ctx, run_config=CONFIG)
    return result.final_output_as(str)


# --- guardrails: an input guardrail that asks a model, an output guardrail that checks text -------
class HomeworkCheck(BaseModel):
    is_homework: bool


guard_agent = Agent[restate.Context](name="Guard", instructions="Is this homework?", output_type=HomeworkCheck)


@input_guardrail
async def no_homework(
    wrapper: RunContextWrapper[restate.Context], agent: Agent[restate.Context], input: object
) -> GuardrailFunctionOutput:
    check = await DurableRunner.run(guard_agent, input, context=wrapper.context, run_config=CONFIG)  # type: ignore
    await wrapper.context.run_typed("record", record_effect, entry=f"guard:{check.final_output.is_homework}")
    return GuardrailFunctionOutput(output_info=check.final_output, tripwire_triggered=check.final_output.is_homework)


@output_guardrail
async def no_secrets(
    wrapper: RunContextWrapper[restate.Context], agent: Agent[restate.Context], output: str
) -> GuardrailFunctionOutput:
    return GuardrailFunctionOutput(output_info=None, tripwire_triggered="secret" in output)


tutor = Agent[restate.Context](
    name="Tutor",
    instructions="Help the student.",
    tools=[lookup],
    input_guardrails=[no_homework],
    output_guardrails=[no_secrets],
)


@features.handler()
async def tutoring(ctx: restate.Context, message: str) -> str:
    try:
        result = await DurableRunner.run(tutor, message, context=ctx, run_config=CONFIG)
    except restate.TerminalError as err:
        record_effect(f"terminal:{err.status_code}:{err.message}")
        raise
    return result.final_output_as(str)


# --- every Runner.run parameter goes through --------------------------------------------------------
plain = Agent[restate.Context](name="Plain", instructions="Answer.", tools=[lookup])


class Passthrough(BaseModel):
    previous_response_id: str | None = None
    conversation_id: str | None = None
    max_turns: int = 10
    handle_max_turns: bool = False


def _gave_up(data: RunErrorHandlerInput[restate.Context]) -> RunErrorHandlerResult:
    return RunErrorHandlerResult(final_output=f"gave up after {len(data.run_data.raw_responses)} model calls")


@features.handler()
async def passthrough(ctx: restate.Context, options: Passthrough) -> str:
    result = await DurableRunner.run(
        plain,
        "look it up",
        context=ctx,
        run_config=CONFIG,
        max_turns=options.max_turns,
        previous_response_id=options.previous_response_id,
        conversation_id=options.conversation_id,
        error_handlers={"max_turns": _gave_up} if options.handle_max_turns else None,
    )
    return result.final_output_as(str)


# --- handoff cycles remembered in a session ----------------------------------------------------------
triage = Agent[restate.Context](name="Triage", instructions="Route the user.")
billing = Agent[restate.Context](name="Billing", instructions="Billing questions.", handoffs=[triage])
triage.handoffs = [billing]

support = restate.VirtualObject("Support")


@support.handler()
async def ask(ctx: restate.ObjectContext, message: str) -> dict[str, Any]:
    session = await RestateSession.create(session_id=ctx.key(), ctx=ctx)
    result = await DurableRunner.run(triage, message, context=ctx, run_config=CONFIG, session=session, max_turns=6)
    return {"output": result.final_output, "last_agent": result.last_agent.name}


@support.handler(kind="shared")
async def history(ctx: restate.ObjectSharedContext) -> list[Any]:
    return await RestateSession.history(ctx)


# --- a RunState kept in object state and resumed by a later invocation --------------------------------
async def _transfer(amount: int) -> str:
    record_effect(f"transfer:{amount}")
    return f"sent {amount}"


@function_tool(needs_approval=True)
async def transfer(wrapper: RunContextWrapper[restate.Context], amount: int) -> str:
    """Send money (needs approval)."""
    return await wrapper.context.run_typed("transfer", _transfer, amount=amount)


cashier = Agent[restate.Context](name="Cashier", instructions="Move money.", tools=[transfer])
checkout = restate.VirtualObject("Checkout", inactivity_timeout=timedelta(seconds=1))


@checkout.handler()
async def start(ctx: restate.ObjectContext, message: str) -> list[str]:
    """approvals=None: the interrupted run's state is kept, the way the SDK's HITL guide does it."""
    result = await DurableRunner.run(cashier, message, context=ctx, run_config=CONFIG, approvals=None)
    ctx.set("run_state", result.to_state().to_string(context_serializer=lambda _: {}))
    return [item.name or "" for item in result.interruptions]


@checkout.handler()
async def decide(ctx: restate.ObjectContext, approved: bool) -> str:
    state = await RunState.from_string(cashier, await ctx.get("run_state", type_hint=str) or "")
    for item in state.get_interruptions():
        if approved:
            state.approve(item)
        else:
            state.reject(item)
    result = await DurableRunner.run(cashier, state, context=ctx, run_config=CONFIG)
    ctx.clear("run_state")
    return result.final_output_as(str)


app = restate.app([features, support, checkout])
