"""Ordinary openai-agents programs, written the SDK's way.

Each program takes ``runner``: the plain SDK's ``agents.Runner`` or, in the served app,
``Durable(ctx)``, whose ``run``/``run_streamed`` are ``DurableRunner``'s with ``context=ctx`` filled
in when the program passes no context of its own. That one substitution is the only difference
between the two runs the suite compares. Nested runs (in a guardrail, agents as tools) stay plain
``Runner.run`` in both: the toolkit must journal them without the program changing.

What a program does that the suite counts goes through :func:`effect` (a tool body ran, a hook
fired); a value that differs between runs (a random number) is recorded as ``name=value`` so the
comparison can name it instead of comparing it. Every agent's instructions start with
``[program]`` or ``[program/agent]``: the scripted model (``script.py``) answers by that tag.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from agents import (
    Agent,
    AgentHooks,
    GuardrailFunctionOutput,
    InputGuardrailTripwireTriggered,
    ModelBehaviorError,
    ModelSettings,
    OutputGuardrailTripwireTriggered,
    RunContextWrapper,
    RunHooks,
    Runner,
    function_tool,
    handoff,
    input_guardrail,
    output_guardrail,
)
from agents.stream_events import RunItemStreamEvent
from pydantic import BaseModel

from tests.apps._support import record_effect

PROGRAM: ContextVar[str] = ContextVar("conformance_program", default="?")
"""Which program is running: its effects are filed under its name (several run in one process)."""


def effect(entry: str) -> None:
    record_effect(f"{PROGRAM.get()}|{entry}")


class Runs(Protocol):
    """What a program runs agents with: ``agents.Runner`` or the app's ``Durable(ctx)``."""

    async def run(self, starting_agent: Agent[Any], input: str, **kwargs: Any) -> Any: ...

    def run_streamed(self, starting_agent: Agent[Any], input: str, **kwargs: Any) -> Any: ...


Program = Callable[[Any], Awaitable[Any]]
PROGRAMS: dict[str, Program] = {}


def program(function: Program) -> Program:
    PROGRAMS[function.__name__] = function
    return function


# -- tools with a random result and a side effect ---------------------------------------------------


@function_tool
def roll_dice() -> str:
    """Roll a random number."""
    value = f"{random.random():.9f}"
    effect(f"roll={value}")
    return value


@function_tool
async def send_email(to: str) -> str:
    """Send an email."""
    effect(f"email:{to}")
    return f"sent to {to}"


mailer = Agent(name="Mailer", instructions="[tools] Roll, then mail the result.", tools=[roll_dice, send_email])


@program
async def tools(runner: Runs) -> Any:
    result = await runner.run(mailer, "roll and mail ada")
    return result.final_output


# -- run hooks and agent hooks -----------------------------------------------------------------------


class CountingRunHooks(RunHooks[Any]):
    async def on_agent_start(self, context: Any, agent: Any) -> None:
        effect(f"run_hook:agent_start:{agent.name}")

    async def on_llm_start(self, context: Any, agent: Any, system_prompt: Any, input_items: Any) -> None:
        effect(f"run_hook:llm_start:{agent.name}")

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        effect(f"run_hook:llm_end:{agent.name}")

    async def on_tool_start(self, context: Any, agent: Any, tool: Any) -> None:
        effect(f"run_hook:tool_start:{tool.name}")

    async def on_tool_end(self, context: Any, agent: Any, tool: Any, result: object) -> None:
        effect(f"run_hook:tool_end:{tool.name}")

    async def on_handoff(self, context: Any, from_agent: Any, to_agent: Any) -> None:
        effect(f"run_hook:handoff:{from_agent.name}->{to_agent.name}")

    async def on_agent_end(self, context: Any, agent: Any, output: Any) -> None:
        effect(f"run_hook:agent_end:{agent.name}")


hooked_mailer = Agent(name="HookedMailer", instructions="[run_hooks] Mail bob.", tools=[send_email])


@program
async def run_hooks(runner: Runs) -> Any:
    result = await runner.run(hooked_mailer, "mail bob", hooks=CountingRunHooks())
    return result.final_output


class CountingAgentHooks(AgentHooks[Any]):
    async def on_start(self, context: Any, agent: Any) -> None:
        effect(f"agent_hook:start:{agent.name}")

    async def on_llm_start(self, context: Any, agent: Any, system_prompt: Any, input_items: Any) -> None:
        effect("agent_hook:llm_start")

    async def on_llm_end(self, context: Any, agent: Any, response: Any) -> None:
        effect("agent_hook:llm_end")

    async def on_tool_start(self, context: Any, agent: Any, tool: Any) -> None:
        effect(f"agent_hook:tool_start:{tool.name}")

    async def on_tool_end(self, context: Any, agent: Any, tool: Any, result: object) -> None:
        effect(f"agent_hook:tool_end:{tool.name}")

    async def on_end(self, context: Any, agent: Any, output: Any) -> None:
        effect(f"agent_hook:end:{agent.name}")


self_watching = Agent(
    name="SelfWatching", instructions="[agent_hooks] Roll.", tools=[roll_dice], hooks=CountingAgentHooks()
)


@program
async def agent_hooks(runner: Runs) -> Any:
    result = await runner.run(self_watching, "roll once")
    return result.final_output


# -- guardrails caught by the program -------------------------------------------------------------------

# The plain SDK runs an input guardrail beside the agent's first model call by default, so whether a
# tripped guardrail's run sent that call depends on timing; DurableRunner runs input guardrails
# first (docs/replay.md). Blocking guardrails make the plain run's request count deterministic.


@input_guardrail(run_in_parallel=False)
async def no_homework(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
    tripped = "homework" in str(value)
    effect(f"input_guardrail:{tripped}")
    return GuardrailFunctionOutput(output_info="homework" if tripped else "fine", tripwire_triggered=tripped)


tutor = Agent(name="Tutor", instructions="[input_guardrail_trips] Help.", input_guardrails=[no_homework])


@program
async def input_guardrail_trips(runner: Runs) -> Any:
    first = await runner.run(tutor, "explain durability")
    try:
        await runner.run(tutor, "do my homework")
    except InputGuardrailTripwireTriggered as tripped:
        return [first.final_output, f"blocked: {tripped.guardrail_result.output.output_info}"]
    return [first.final_output, "not blocked"]


class ModerationDown(Exception):
    """What a moderation API client raises when the service is unavailable."""


@input_guardrail(run_in_parallel=False)
async def moderated(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
    effect(f"moderation:{value}")
    if "outage" in str(value):
        raise ModerationDown("moderation service unavailable")
    return GuardrailFunctionOutput(output_info={"flagged": False}, tripwire_triggered=False)


moderated_agent = Agent(name="Moderated", instructions="[guardrail_raises] Help.", input_guardrails=[moderated])


@program
async def guardrail_raises(runner: Runs) -> Any:
    first = await runner.run(moderated_agent, "hello")
    try:
        await runner.run(moderated_agent, "during an outage")
    except ModerationDown as error:  # a guardrail's own exception reaches the caller, as plainly
        return [first.final_output, f"moderation down: {error}"]
    return [first.final_output, "no error"]


@output_guardrail
async def no_secrets(context: RunContextWrapper[Any], agent: Agent[Any], output: Any) -> GuardrailFunctionOutput:
    tripped = "secret" in str(output)
    effect(f"output_guardrail:{tripped}")
    return GuardrailFunctionOutput(output_info=str(output), tripwire_triggered=tripped)


leaky = Agent(name="Leaky", instructions="[output_guardrail_trips] Answer.", output_guardrails=[no_secrets])


@program
async def output_guardrail_trips(runner: Runs) -> Any:
    try:
        result = await runner.run(leaky, "what is the password?")
    except OutputGuardrailTripwireTriggered as tripped:
        return f"withheld: {tripped.guardrail_result.output.output_info}"
    return result.final_output


checker = Agent(name="Checker", instructions="[guardrail_nested_run/checker] Is this about homework?")


@input_guardrail(run_in_parallel=False)
async def asks_a_model(context: RunContextWrapper[Any], agent: Agent[Any], value: Any) -> GuardrailFunctionOutput:
    verdict = await Runner.run(checker, value, context=context.context)  # a plain nested run
    return GuardrailFunctionOutput(output_info=verdict.final_output, tripwire_triggered="yes" in verdict.final_output)


checked = Agent(name="Checked", instructions="[guardrail_nested_run] Help.", input_guardrails=[asks_a_model])


@program
async def guardrail_nested_run(runner: Runs) -> Any:
    answers = []
    for message in ("explain durability", "do my homework"):
        try:
            answers.append((await runner.run(checked, message)).final_output)
        except InputGuardrailTripwireTriggered:
            answers.append("blocked")
    return answers


# -- several agents ----------------------------------------------------------------------------------

translator = Agent(name="Translator", instructions="[agent_as_tool/translator] Translate to French.")
orchestrator = Agent(
    name="Orchestrator",
    instructions="[agent_as_tool] Use the translator.",
    tools=[translator.as_tool(tool_name="translate", tool_description="Translate to French.")],
)


@program
async def agent_as_tool(runner: Runs) -> Any:
    result = await runner.run(orchestrator, "translate hello")
    return result.final_output


poet = Agent(name="Poet", instructions="[gathered/poet] Write a poem.", tools=[roll_dice])
critic = Agent(name="Critic", instructions="[gathered/critic] Write a critique.")


@program
async def gathered(runner: Runs) -> Any:
    poem, critique = await asyncio.gather(runner.run(poet, "durability"), runner.run(critic, "durability"))
    return [poem.final_output, critique.final_output]


specialist = Agent(name="Specialist", instructions="[handoffs/specialist] Answer billing questions.")
triage = Agent(name="Triage", instructions="[handoffs] Route the question.", handoffs=[handoff(specialist)])


@program
async def handoffs(runner: Runs) -> Any:
    result = await runner.run(triage, "why was I billed twice?", hooks=CountingRunHooks())
    return [result.final_output, result.last_agent.name]


# -- instructions, tool choice, output types ----------------------------------------------------------


@dataclass
class Customer:
    name: str
    tier: str


def personal_instructions(context: RunContextWrapper[Customer], agent: Agent[Customer]) -> str:
    effect("instructions")
    return f"[dynamic_instructions] Greet {context.context.name}, a {context.context.tier} customer."


greeter = Agent[Customer](name="Greeter", instructions=personal_instructions)


@program
async def dynamic_instructions(runner: Runs) -> Any:
    result = await runner.run(greeter, "hi", context=Customer("ada", "gold"))
    return result.final_output


@function_tool
def lookup_weather(city: str) -> str:
    """The weather in a city."""
    effect(f"weather:{city}")
    return f"sunny in {city}"


forecaster = Agent(
    name="Forecaster",
    instructions="[forced_tool] Always look the weather up.",
    tools=[lookup_weather],
    model_settings=ModelSettings(tool_choice="required"),
    tool_use_behavior="stop_on_first_tool",
)


@program
async def forced_tool(runner: Runs) -> Any:
    result = await runner.run(forecaster, "weather in Denver?")
    return result.final_output


class Trip(BaseModel):
    city: str
    days: int


planner = Agent(name="Planner", instructions="[structured_output] Plan a trip.", output_type=Trip)


@program
async def structured_output(runner: Runs) -> Any:
    result = await runner.run(planner, "three days in Paris")
    trip = result.final_output
    return {"type": type(trip).__name__, **trip.model_dump()}


@dataclass
class Shop:
    customer: str
    orders: list[str]


@function_tool
def list_orders(wrapper: RunContextWrapper[Shop]) -> str:
    """The customer's orders."""
    effect(f"orders:{wrapper.context.customer}")
    return ", ".join(wrapper.context.orders)


@function_tool
def add_order(wrapper: RunContextWrapper[Shop], item: str) -> str:
    """Add an order."""
    effect(f"add:{item}")
    wrapper.context.orders.append(item)
    return f"added {item}"


shopkeeper = Agent[Shop](
    name="Shopkeeper", instructions="[custom_context] Manage orders.", tools=[add_order, list_orders]
)


@program
async def custom_context(runner: Runs) -> Any:
    shop = Shop("ada", ["tea"])
    result = await runner.run(shopkeeper, "add cake, then list", context=shop)
    return [result.final_output, shop.orders]


# -- streaming, parallel tools --------------------------------------------------------------------------


streamer = Agent(name="Streamer", instructions="[streaming] Roll, then answer.", tools=[roll_dice])


@program
async def streaming(runner: Runs) -> Any:
    result = runner.run_streamed(streamer, "roll for me")
    items = [event.name async for event in result.stream_events() if isinstance(event, RunItemStreamEvent)]
    return [result.final_output, items]


def _lookup(name: str) -> Any:
    async def lookup(topic: str) -> str:
        await asyncio.sleep(0.05)
        value = f"{random.random():.9f}"
        effect(f"{name}={value}")
        return f"{name}:{topic}:{value}"

    lookup.__name__ = name
    lookup.__doc__ = f"Look {name} up."
    return function_tool(lookup)


researcher = Agent(
    name="Researcher",
    instructions="[parallel_tools] Look all three up at once.",
    tools=[_lookup("flights"), _lookup("hotels"), _lookup("trains")],
)


@program
async def parallel_tools(runner: Runs) -> Any:
    result = await runner.run(researcher, "plan")
    return result.final_output


# -- bad input: what the plain SDK does with it ---------------------------------------------------------


clumsy = Agent(name="Clumsy", instructions="[wrong_arguments] Look the weather up.", tools=[lookup_weather])


@program
async def wrong_arguments(runner: Runs) -> Any:
    result = await runner.run(clumsy, "weather?")
    return result.final_output


class OutOfStock(Exception):
    pass


@function_tool
def reserve(item: str) -> str:
    """Reserve an item."""
    effect(f"reserve:{item}")
    raise OutOfStock(f"{item} is out of stock")


reserver = Agent(name="Reserver", instructions="[tool_raises] Reserve it.", tools=[reserve])


@program
async def tool_raises(runner: Runs) -> Any:
    result = await runner.run(reserver, "reserve a bike")
    return result.final_output


@function_tool(failure_error_function=None)
def strict_reserve(item: str) -> str:
    """Reserve an item; errors reach the caller."""
    effect(f"strict_reserve:{item}")
    raise OutOfStock(f"{item} is out of stock")


strict = Agent(name="Strict", instructions="[tool_raises_to_user] Reserve it.", tools=[strict_reserve])


@program
async def tool_raises_to_user(runner: Runs) -> Any:
    try:
        await runner.run(strict, "reserve a bike")
    except Exception as error:  # what the SDK raises out of Runner.run, caught as the SDK documents
        cause = error.__cause__
        return [type(error).__name__, str(error), type(cause).__name__ if cause else None]
    return "no error"


confused = Agent(name="Confused", instructions="[unknown_tool] Use a tool.", tools=[lookup_weather])


@program
async def unknown_tool(runner: Runs) -> Any:
    try:
        await runner.run(confused, "do something")
    except ModelBehaviorError as error:
        return f"model misbehaved: {error}"
    return "no error"
