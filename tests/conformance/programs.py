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
from typing import Any, Protocol, TypeVar

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

from tests.apps._recording import RecordingRunHooks, dice_tool, email_tool
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
Caught = TypeVar("Caught", bound=Exception)
PROGRAMS: dict[str, Program] = {}


def program(function: Program) -> Program:
    PROGRAMS[function.__name__] = function
    return function


def one_run(name: str, agent: Agent[Any], message: str, hooks: RunHooks[Any] | None = None) -> None:
    """Register program ``name``: one ``runner.run(agent, message)``, answering its final output.

    Most programs are this with another agent; the ones that do more are written out with :func:`program`.
    """

    async def run_once(runner: Runs) -> Any:
        result = await runner.run(agent, message, hooks=hooks)
        return result.final_output

    PROGRAMS[name] = run_once


# -- tools with a random result and a side effect ---------------------------------------------------


roll_dice = dice_tool(effect)
send_email = email_tool(effect)


mailer = Agent(name="Mailer", instructions="[tools] Roll, then mail the result.", tools=[roll_dice, send_email])
one_run("tools", mailer, "roll and mail ada")


# -- run hooks and agent hooks -----------------------------------------------------------------------


hooked_mailer = Agent(name="HookedMailer", instructions="[run_hooks] Mail bob.", tools=[send_email])
one_run("run_hooks", hooked_mailer, "mail bob", hooks=RecordingRunHooks(effect, "run_hook"))


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
one_run("agent_hooks", self_watching, "roll once")


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


async def passes_then_stops(
    runner: Runs, agent: Agent[Any], passing: str, stopped: str, caught: type[Caught]
) -> tuple[Any, Caught | None]:
    """Run ``agent`` on ``passing``, then on ``stopped``, catching ``caught`` as the SDK documents: the
    first run's answer, and what stopped the second (None if it ran through)."""
    first = await runner.run(agent, passing)
    try:
        await runner.run(agent, stopped)
    except caught as error:
        return first.final_output, error
    return first.final_output, None


@program
async def input_guardrail_trips(runner: Runs) -> Any:
    first, tripped = await passes_then_stops(
        runner, tutor, "explain durability", "do my homework", InputGuardrailTripwireTriggered
    )
    return [first, f"blocked: {tripped.guardrail_result.output.output_info}" if tripped else "not blocked"]


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
    # a guardrail's own exception reaches the caller, as plainly
    first, error = await passes_then_stops(runner, moderated_agent, "hello", "during an outage", ModerationDown)
    return [first, f"moderation down: {error}" if error else "no error"]


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
one_run("agent_as_tool", orchestrator, "translate hello")


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
    result = await runner.run(triage, "why was I billed twice?", hooks=RecordingRunHooks(effect, "run_hook"))
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
one_run("forced_tool", forecaster, "weather in Denver?")


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

    return function_tool(lookup, name_override=name, description_override=f"Look {name} up.")


researcher = Agent(
    name="Researcher",
    instructions="[parallel_tools] Look all three up at once.",
    tools=[_lookup("flights"), _lookup("hotels"), _lookup("trains")],
)
one_run("parallel_tools", researcher, "plan")


# -- bad input: what the plain SDK does with it ---------------------------------------------------------


clumsy = Agent(name="Clumsy", instructions="[wrong_arguments] Look the weather up.", tools=[lookup_weather])
one_run("wrong_arguments", clumsy, "weather?")


class OutOfStock(Exception):
    pass


def _reserve(item: str) -> str:
    """Reserve an item."""
    effect(f"reserve:{item}")
    raise OutOfStock(f"{item} is out of stock")


reserve = function_tool(_reserve, name_override="reserve")
reserver = Agent(name="Reserver", instructions="[tool_raises] Reserve it.", tools=[reserve])
one_run("tool_raises", reserver, "reserve a bike")


# the same tool without the SDK's default failure_error_function: its error reaches the caller
strict_reserve = function_tool(_reserve, name_override="strict_reserve", failure_error_function=None)
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
