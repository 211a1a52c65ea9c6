"""Services measured by the benchmark (served in their own process like any deployment)."""

from __future__ import annotations

import asyncio

import restate
from agents.items import ModelResponse
from agents.usage import Usage
from openai.types.responses import ResponseOutputMessage, ResponseOutputText

from integrations.openai_agents import Compaction, CompactionPolicy, DropOldest, DurableModel, RestateSession
from integrations.openai_agents._serde import dump_response
from integrations.testing import ModelCall, Reply, ScriptedModel

SIMULATED_LATENCY = 0.2  # seconds: a typical fast model call
ANSWER = "The weather in Detroit is overcast, 3°C. " * 5


def canned_response() -> ModelResponse:
    message = ResponseOutputMessage(
        id="msg_1",
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=ANSWER, annotations=[])],
    )
    return ModelResponse(
        output=[message],
        usage=Usage(requests=1, input_tokens=50, output_tokens=40, total_tokens=90),
        response_id="resp_1",
    )


def simulated_model() -> ScriptedModel:
    """A model that takes SIMULATED_LATENCY and returns a fixed answer."""
    answer = Reply(text=ANSWER, delay=SIMULATED_LATENCY, input_tokens=50, output_tokens=40)
    return ScriptedModel(responder=lambda call: answer, name="simulated")


def summary_model() -> ScriptedModel:
    """The summariser of the compacted layout: answers at once with a summary of fixed size, so the
    figure shows the session's own cost (a real summary call is one model call per compaction)."""
    summary = Reply(text="The user asked about the weather. " * 10)
    return ScriptedModel(responder=lambda call: summary, name="summary")


POLICIES: dict[str, CompactionPolicy] = {
    "compacted": Compaction(keep_last=20, summarize_after=60, summarizer=summary_model()),
    "drop": DropOldest(max_items=40),
}


async def simulated_call() -> dict:
    await asyncio.sleep(SIMULATED_LATENCY)
    return dump_response(canned_response())


bench = restate.Service("Bench")
durable = DurableModel(simulated_model(), name="simulated")


@bench.handler()
async def bare(ctx: restate.Context, calls: int) -> int:
    for _ in range(calls):
        await ctx.run_typed("LLM call", simulated_call)
    return calls


@bench.handler()
async def adapter(ctx: restate.Context, calls: int) -> int:
    for _ in range(calls):
        await ModelCall.plain("What is the weather?", system_instructions="Be brief.").get_response(durable)
    return calls


sessions = restate.VirtualObject("BenchSession")


async def session_turn(ctx: restate.ObjectContext, request: dict) -> int:
    """One conversation turn's session work, as the SDK does it: load, read, add input, add output."""
    layout = request["layout"]
    if layout in POLICIES:
        session = await RestateSession.create(session_id=ctx.key(), ctx=ctx, compaction=POLICIES[layout])
    else:
        session = await RestateSession.create(session_id=ctx.key(), ctx=ctx, layout=layout)
    message = request["message"]
    history = await session.get_items()
    await session.add_items([{"role": "user", "content": message}])
    await session.add_items([dump_response(canned_response())["output"][0]])
    return len(history)


@sessions.handler()
async def turn(ctx: restate.ObjectContext, request: dict) -> int:
    """A turn with Restate's default eager state: the server sends all of the key's state up front."""
    return await session_turn(ctx, request)


@sessions.handler(state_preload=False)
async def lazy_turn(ctx: restate.ObjectContext, request: dict) -> int:
    """A turn with lazy state: only the keys the turn reads cross the wire, one round trip each."""
    return await session_turn(ctx, request)


app = restate.app([bench, sessions])
