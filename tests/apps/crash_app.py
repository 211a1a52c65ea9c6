"""A 3-tool agent on ``DurableRunner`` that can be held at any named point of its run.

The run makes 4 model calls (three answer with one tool call each, the last one with the final
text) and each tool runs one ``ctx.run`` side effect recorded in ``$EFFECTS_FILE``. The points, in
the order a run passes them, are :data:`POINTS`:

- ``start`` / ``end``: handler code before and after the agent run;
- ``model{t}:call``: inside model step *t*, before the request is sent (nothing to re-send);
- ``model{t}:answered``: inside the step, the model has answered but the answer is not journaled;
- ``model{t}:journaled``: handler code right after the step's result was journaled (``on_llm_end``);
- ``tool{j}:before`` / ``tool{j}:after``: in tool *j*, before its step and after it was journaled;
- ``tool{j}:inside``: inside tool *j*'s side effect, after it ran, before its result is journaled.

A test holds one run (its input message is the run's *tag*) at point *k* by writing *k* into
``$GATE_DIR/crash-<tag>``: the first time the run reaches *k* the app records ``reached:<k>:<tag>``
and waits while the file still names *k*. The test then SIGKILLs the service (or the server, or a
cluster node), removes the file, and restarts: the run goes on from its journal.

Lines recorded in ``$EFFECTS_FILE`` (so counts survive a kill -9):
``effect:<tool>:<tag>`` each time a side effect really runs, ``journaled:<tool>:<tag>`` and
``model-journaled:<t>:<tag>`` after a step's result is journaled (again on every replay), these
three with an ``@<monotonic time>`` suffix (:func:`stamped`),
``reached:<point>:<tag>`` and ``orphaned:<point>:<tag>`` (see :func:`point`).
:func:`script` is the scripted model's side of the conversation. While ``$GATE_DIR/old-sdk`` exists,
model responses are journaled the way an older SDK would have written them (a test of upgrades).
"""

from __future__ import annotations

import asyncio
import os
import random
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import restate
from agents import Agent, ModelSettings, RunConfig, RunContextWrapper, RunHooks, function_tool
from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.models.openai_provider import OpenAIProvider
from agents.tool import Tool

from integrations._context import running_context
from integrations.openai_agents import DurableRunner, _serde, raise_restate_errors
from integrations.testing import ForwardingModel, ModelCall, ModelRequest, Reply, text, tool_call
from tests.apps._support import held_at, record_effect, stamped

TOOLS = ("lookup_flight", "book_hotel", "notify_user")
MODEL_CALLS = len(TOOLS) + 1
HOLD_TIMEOUT = 600.0  # seconds a held run waits before failing (a test that forgot to release it)


def _points() -> list[str]:
    points = ["start"]
    for turn in range(1, MODEL_CALLS + 1):
        points += [f"model{turn}:call", f"model{turn}:answered", f"model{turn}:journaled"]
        if turn <= len(TOOLS):
            points += [f"tool{turn}:before", f"tool{turn}:inside", f"tool{turn}:after"]
    return [*points, "end"]


POINTS: list[str] = _points()
"""Every point of a run, in order: before/after each model call is journaled, inside each side
effect, and between the steps."""


async def point(tag: str, name: str) -> None:
    """Hold the run here while ``crash-<tag>`` names this point (the test kills us meanwhile).

    A held attempt whose server connection drops (a server or cluster node died) records
    ``orphaned:<point>:<tag>`` once, when it notices or when the SDK cancels it: the test then knows
    which runs must be re-invoked by the recovered server.
    """
    if held_at(tag) != name:
        return
    record_effect(f"reached:{name}:{tag}")
    # restate-sdk 1.3.0 internals (test app only): the attempt's receive channel sets this event
    # when the server hangs up
    receive = getattr(running_context(), "receive", None)
    hung_up: asyncio.Event | None = getattr(receive, "_disconnected", None)
    noted = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + HOLD_TIMEOUT
    try:
        while held_at(tag) == name:
            if not noted and hung_up is not None and hung_up.is_set():
                record_effect(f"orphaned:{name}:{tag}")
                noted = True
            if loop.time() > deadline:
                raise TimeoutError(f"run {tag} was held at {name} and never released")
            await asyncio.sleep(0.02)
    except asyncio.CancelledError:
        if not noted:
            record_effect(f"orphaned:{name}:{tag}")
        raise


def _effect_delay() -> float:
    """Optional random duration of a side effect (``$CRASH_EFFECT_DELAY`` seconds at most), so the
    chaos soak's random kills can land inside effects."""
    limit = float(os.environ.get("CRASH_EFFECT_DELAY") or 0)
    return random.uniform(0, limit) if limit > 0 else 0.0


def _make_tool(index: int, name: str) -> Tool:
    async def side_effect(item: str) -> str:
        record_effect(stamped(f"effect:{name}:{item}"))
        delay = _effect_delay()
        if delay:
            await asyncio.sleep(delay)
        await point(item, f"tool{index}:inside")
        return f"{name}({item}) ok"

    async def tool(wrapper: RunContextWrapper[restate.Context], item: str) -> str:
        await point(item, f"tool{index}:before")
        result = await wrapper.context.run_typed(f"effect {name}", side_effect, item=item)
        record_effect(stamped(f"journaled:{name}:{item}"))
        await point(item, f"tool{index}:after")
        return result

    tool.__name__ = name
    tool.__doc__ = f"Step {index} of the trip: {name.replace('_', ' ')}."
    return function_tool(tool, name_override=name, failure_error_function=raise_restate_errors)


class GatedModel(ForwardingModel):
    """The real OpenAI Responses model with two hold points inside the journaled step."""

    def __init__(self, inner: Model, tag: str) -> None:
        self.inner = inner
        self.tag = tag
        self.model = getattr(inner, "model", "gpt-4o")

    async def respond(self, call: ModelCall) -> ModelResponse:
        turn = 1 + call.function_outputs()
        await point(self.tag, f"model{turn}:call")
        response = await call.get_response(self.inner)
        await point(self.tag, f"model{turn}:answered")
        return response

    def stream(self, call: ModelCall) -> AsyncIterator[TResponseStreamEvent]:  # pragma: no cover - never streamed
        raise NotImplementedError("not streamed in this test")


class CrashHooks(RunHooks[restate.Context]):
    """``on_llm_end`` runs after the model step returned, i.e. after its result was journaled."""

    def __init__(self, tag: str) -> None:
        self.tag = tag

    async def on_llm_end(
        self, context: RunContextWrapper[restate.Context], agent: Agent[restate.Context], response: ModelResponse
    ) -> None:
        # The turn comes from the run's usage, which the replayed model steps rebuild; a counter kept
        # in the hook would not be, since a journaled hook is not fired again on replay.
        turn = context.usage.requests
        record_effect(stamped(f"model-journaled:{turn}:{self.tag}"))
        await point(self.tag, f"model{turn}:journaled")


def _journal_like_an_older_sdk() -> None:
    """While ``$GATE_DIR/old-sdk`` exists, model responses are journaled the way an SDK version
    that lacked the items' ``status`` and had a field this one does not know would write them.
    A test holds the run, kills the service, removes the file and restarts it: the replay must
    decode those journal entries with today's SDK (an upgrade while the invocation was suspended)."""
    original = _serde.dump_response

    def dump_response(response: ModelResponse) -> dict[str, Any]:
        data = original(response)
        gate_dir = os.environ.get("GATE_DIR")  # unset in a test process that imports this module
        if gate_dir and (Path(gate_dir) / "old-sdk").exists():
            for item in data["output"]:
                item.pop("status", None)
                item["legacy_trace_id"] = "t-1"
        return data

    _serde.dump_response = dump_response


_journal_like_an_older_sdk()

trip_agent = Agent[restate.Context](
    name="TripAgent",
    instructions="Plan the trip: call each tool once, in order, then summarise.",
    tools=[_make_tool(index, name) for index, name in enumerate(TOOLS, start=1)],
)
_provider = OpenAIProvider()

crash_agent = restate.Service(
    "CrashAgent",
    # a killed service is back within a second or two: retry soon rather than back off for long,
    # and never pause a run (the server's default pauses after 70 attempts; a soak kills far more)
    invocation_retry_policy=restate.InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_interval=timedelta(milliseconds=500), max_attempts=1_000_000
    ),
)


@crash_agent.handler()
async def run(ctx: restate.Context, message: str) -> str:
    await point(message, "start")
    result = await DurableRunner.run(
        trip_agent,
        message,
        context=ctx,
        run_config=RunConfig(
            model=GatedModel(_provider.get_model("gpt-4o"), message),
            model_settings=ModelSettings(parallel_tool_calls=False),
        ),
        hooks=CrashHooks(message),
    )
    await point(message, "end")
    return str(result.final_output)


app = restate.app([crash_agent])


# --- the scripted model's side (used by the tests and the chaos soak, in the test process) ------------
def turn_of(request: ModelRequest) -> int:
    """Which model call of the run this request is (1..MODEL_CALLS)."""
    return 1 + len(request.tool_outputs())


def script(*, max_delay: float = 0.0) -> Callable[[ModelRequest], Reply]:
    """Call each tool in order with the run's tag, then answer with every tool's output.

    ``max_delay`` makes each answer take a random time up to that many seconds.
    """

    def respond(request: ModelRequest) -> Reply:
        outputs = request.tool_outputs()
        delay = random.uniform(0, max_delay) if max_delay > 0 else 0.0
        if len(outputs) < len(TOOLS):
            return tool_call(TOOLS[len(outputs)], {"item": request.last_user_text}, delay=delay)
        return text("trip planned: " + "; ".join(outputs), delay=delay)

    return respond


def expected_answer(tag: str) -> str:
    """What a crash-free run tagged ``tag`` answers (checked against a real crash-free run)."""
    return "trip planned: " + "; ".join(f"{name}({tag}) ok" for name in TOOLS)
