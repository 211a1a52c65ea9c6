"""Ordinary SDK code under DurableRunner: plain tools, hooks, caught guardrails, gathered runs,
a custom context, a nested run in a guardrail, and concurrent tools whose steps finish out of order."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import restate
from agents import (
    Agent,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    RunContextWrapper,
    Runner,
    function_tool,
    input_guardrail,
)

from integrations.openai_agents import DurableRunner
from tests.apps._recording import RecordingRunHooks, dice_tool, email_tool
from tests.apps._support import record_effect, wait_for_gate

service = restate.Service("transparency")


roll_dice = dice_tool(record_effect)
send_email = email_tool(record_effect)


async def _slow(label: str, seconds: float) -> str:
    await asyncio.sleep(seconds)
    record_effect(label)
    return label


def _stepping_tool(name: str, first: float, second: float) -> Any:
    async def tool(wrapper: RunContextWrapper[restate.Context], topic: str) -> str:
        ctx = wrapper.context
        one = await ctx.run_typed(f"{name}1", _slow, label=f"{name}1:{topic}", seconds=first)
        two = await ctx.run_typed(f"{name}2", _slow, label=f"{name}2:{topic}", seconds=second)
        return f"{one}+{two}"

    return function_tool(tool, name_override=name, description_override=f"Look {name} up in two steps.")


# a's steps are slow, c's fast: completion order is the reverse of the model's order
stepping_agent = Agent(
    name="Stepping",
    instructions="Use all tools.",
    tools=[_stepping_tool("a", 0.3, 0.2), _stepping_tool("b", 0.15, 0.1), _stepping_tool("c", 0.0, 0.0)],
)
plain_agent = Agent(name="Plain", instructions="Use the tools.", tools=[roll_dice, send_email])


@service.handler()
async def plain_tools(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(plain_agent, message, context=ctx)
    return str(result.final_output)


@service.handler()
async def stepping(ctx: restate.Context, message: str) -> str:
    record_effect("attempt:stepping")  # not journaled: one line per attempt of the handler
    result = await DurableRunner.run(stepping_agent, message, context=ctx)
    return str(result.final_output)


@service.handler()
async def hooked(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(plain_agent, message, context=ctx, hooks=RecordingRunHooks(record_effect, "hook"))
    return str(result.final_output)


checker = Agent(name="Checker", instructions="Is this about homework? Answer yes or no.")


@input_guardrail
async def no_homework(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
    verdict = await Runner.run(checker, value, context=context.context)  # a plain nested run
    return GuardrailFunctionOutput(output_info=verdict.final_output, tripwire_triggered="yes" in verdict.final_output)


guarded_agent = Agent(name="Guarded", instructions="Help.", input_guardrails=[no_homework])


@service.handler()
async def guarded(ctx: restate.Context, message: str) -> str:
    try:
        result = await DurableRunner.run(guarded_agent, message, context=ctx)
    except InputGuardrailTripwireTriggered:
        return "blocked"
    return str(result.final_output)


@dataclass
class Shop:
    customer: str


@function_tool
def whoami(wrapper: RunContextWrapper[Shop]) -> str:
    """Name the customer."""
    record_effect(f"whoami:{wrapper.context.customer}")
    return wrapper.context.customer


shop_agent = Agent[Shop](name="Shop", instructions="Greet.", tools=[whoami])


@service.handler()
async def own_context(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(shop_agent, message, context=Shop(customer="ada"))
    return str(result.final_output)


poet = Agent(name="Poet", instructions="Write a poem.")
critic = Agent(name="Critic", instructions="Write a critique.")


@service.handler()
async def gathered(ctx: restate.Context, message: str) -> list[str]:
    poem, critique = await asyncio.gather(
        DurableRunner.run(poet, message, context=ctx), DurableRunner.run(critic, message, context=ctx)
    )
    return [str(poem.final_output), str(critique.final_output)]


@function_tool
async def quick_flight(city: str) -> str:
    """Find a flight."""
    record_effect(f"flight:{city}")
    return f"flight to {city}"


@function_tool
async def quick_hotel(city: str) -> str:
    """Find a hotel."""
    record_effect(f"hotel:{city}")
    return f"hotel in {city}"


async def _across_gate(kind: str, city: str, gate: str) -> None:
    """A tool's side effect that begins, waits for the test's ``gate``, and ends: both ends are recorded,
    so a test sees whether a re-run began it again and whether it finished."""
    record_effect(f"{kind}-start:{city}")
    await wait_for_gate(gate)
    record_effect(f"{kind}-done:{city}")


@function_tool
async def slow_train(city: str) -> str:
    """Find a train (waits for the test's gate, so the service can be killed meanwhile)."""
    await _across_gate("train", city, gate="train")
    return f"train to {city}"


travel_agent = Agent(name="Travel", instructions="Use all tools.", tools=[quick_flight, quick_hotel, slow_train])


@service.handler()
async def travel(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(travel_agent, message, context=ctx)
    return str(result.final_output)


@function_tool
async def prompt_bus(city: str) -> str:
    """Find a bus (answers as soon as the test's gate opens)."""
    await _across_gate("bus", city, gate="race")
    return f"bus to {city}"


@function_tool
async def late_ferry(city: str) -> str:
    """Find a ferry (its API has acted when the gate opens; its reply is still on the way)."""
    await _across_gate("ferry", city, gate="race")
    await asyncio.sleep(0.3)
    return f"ferry to {city}"


racing_agent = Agent(name="Racing", instructions="Use both tools.", tools=[prompt_bus, late_ferry])


@service.handler()
async def racing(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(racing_agent, message, context=ctx)
    return str(result.final_output)


def _announce(topic: str, name: str) -> str:
    record_effect(f"awakeable:{topic}:{name}")
    return name


@function_tool
async def signal_wait(wrapper: RunContextWrapper[restate.Context], topic: str) -> str:
    """Wait for a person's signal about a topic."""
    ctx = wrapper.context
    name, promise = ctx.awakeable(type_hint=str)
    await ctx.run_typed("announce", _announce, topic=topic, name=name)
    signal = await promise
    record_effect(f"signal-done:{topic}")  # handler code: reached once the person's answer is back
    return signal


@function_tool
async def three_steps(wrapper: RunContextWrapper[restate.Context], topic: str) -> str:
    """Look a topic up in three steps."""
    ctx = wrapper.context
    done = [await ctx.run_typed(f"s{n}", _slow, label=f"s{n}:{topic}", seconds=0.05) for n in (1, 2, 3)]
    record_effect(f"steps-done:{topic}")  # handler code: reached once the third step's result is back
    return "+".join(done)


waiting_agent = Agent(name="Waiting", instructions="Use both tools.", tools=[signal_wait, three_steps])


@service.handler()
async def waiting(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(waiting_agent, message, context=ctx)
    return str(result.final_output)


app = restate.app([service])
