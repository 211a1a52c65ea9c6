"""Google ADK agents made durable by ``integrations.google_adk``, for the tests in tests/google_adk/.

The model is ADK's ``LiteLlm`` talking to the scripted model server (``$OPENAI_BASE_URL``). Side
effects are recorded in ``$EFFECTS_FILE`` so a test counts how often a tool body really ran:

- ``weather:<city>`` each time ``get_weather`` runs (``Flaky <x>`` fails once with a connection
  error; ``Slow <x>`` waits for the gate ``<city>``; ``Doom`` raises a TerminalError; ``Bug`` a ValueError);
- ``book:<step>:<city>`` for each ``ctx.run`` side effect of ``book_trip`` (a tool with its own steps),
  ``booked:<city>`` each time its code has both results (replays included);
- ``awakeable:<topic>:<id>`` when ``await_signal`` announces the awakeable it waits on, and
  ``signal-done:<topic>`` each time its code passes the answer (replays included);
- ``transfer:<amount>`` when the approved ``transfer_money`` runs;
- ``refund-called:<order>`` each time ``refund`` (which asks for confirmation itself) runs, and
  ``refunded:<order>:<amount>`` when it refunds;
- ``handler-caught-terminal:<message>`` when a handler sees the run fail terminally;
- ``attempt:<message>`` each time an attempt of ``AdkChat.message`` starts (replays included).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import httpx
import restate
from google.adk.agents import LlmAgent, LoopAgent, ParallelAgent, SequentialAgent
from google.adk.agents.run_config import (  # type: ignore[attr-defined]  # ADK documents this import; the module does not re-export it
    RunConfig,
    StreamingMode,
)
from google.adk.apps import App
from google.adk.apps._configs import EventsCompactionConfig
from google.adk.models.lite_llm import LiteLlm
from google.adk.runners import Runner
from google.adk.sessions import InMemorySessionService
from google.adk.tools.agent_tool import AgentTool
from google.adk.tools.exit_loop_tool import exit_loop
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.tool_context import ToolContext
from pydantic import BaseModel

from integrations.google_adk import DurablePlugin, RestateSessionService, StepRetry, restate_context
from tests.apps._support import gate_path, record_effect, wait_for_gate
from tests.apps.adk_common import final_text, stored_events


def _model() -> LiteLlm:
    return LiteLlm(model="openai/gpt-test", api_base=os.environ["OPENAI_BASE_URL"], api_key="sk-test")


async def get_weather(city: str, tool_context: ToolContext) -> dict[str, Any]:
    """The current weather in a city."""
    record_effect(f"weather:{city}")
    if city.startswith("Flaky") and not gate_path(f"flaked-{city}").exists():
        gate_path(f"flaked-{city}").touch()
        raise httpx.ConnectError("weather API unreachable")
    if city.startswith("Slow"):
        await wait_for_gate(city)
    if city == "Doom":
        raise restate.TerminalError(f"unknown city {city}")
    if city == "Bug":
        raise ValueError("the weather API returned nonsense")
    tool_context.state["last_city"] = city
    record_effect(f"weathered:{city}")
    return {"city": city, "temperature": 21.5, "sky": "sunny"}


async def book_trip(city: str) -> str:
    """Book a trip to a city (two durable steps of its own)."""
    ctx = restate_context()

    async def book(step: str) -> str:
        record_effect(f"book:{step}:{city}")
        return f"{step}-{city}"

    flight = await ctx.run_typed("book flight", book, step="flight")
    hotel = await ctx.run_typed("book hotel", book, step="hotel")
    record_effect(f"booked:{city}")  # handler code: reached once both steps' results are back
    return f"{flight}+{hotel}"


async def await_signal(topic: str) -> str:
    """Wait for a person's signal about a topic (an awakeable, announced in a step of its own)."""
    ctx = restate_context()
    name, signal = ctx.awakeable(type_hint=str)

    def announce() -> str:
        record_effect(f"awakeable:{topic}:{name}")
        return name

    await ctx.run_typed("announce", announce)
    answer = await signal
    record_effect(f"signal-done:{topic}")  # handler code: reached once the person's answer is back
    return answer


async def ask_remote_expert(question: str) -> str:
    """Ask the remote weather expert (an ADK agent in a Restate service of its own)."""
    return await restate_context().service_call(ask, arg=question)


def transfer_money(amount: int) -> str:
    """Transfer money: a person approves every call."""
    record_effect(f"transfer:{amount}")
    return f"transferred {amount}"


def refund(order: str, amount: int, tool_context: ToolContext) -> dict[str, Any]:
    """Refund an order: the tool asks for a person's confirmation itself, with an amount they may change."""
    record_effect(f"refund-called:{order}")
    confirmation = tool_context.tool_confirmation
    if confirmation is None:
        tool_context.request_confirmation(hint=f"Refund {amount} for {order}?", payload={"amount": amount})
        return {"status": "waiting for a person"}
    if not confirmation.confirmed:
        return {"status": "refund declined"}
    approved = int((confirmation.payload or {}).get("amount", amount))
    record_effect(f"refunded:{order}:{approved}")
    return {"status": f"refunded {approved} for {order}"}


weather_agent = LlmAgent(
    name="weather",
    model=_model(),
    instruction="You are a helpful agent that provides weather updates.",
    tools=[
        get_weather,
        book_trip,
        await_signal,
        ask_remote_expert,
        FunctionTool(transfer_money, require_confirmation=True),
        refund,
    ],
)

PLUGIN = DurablePlugin(retry=StepRetry(max_attempts=3, initial_retry_interval=timedelta(milliseconds=50)))
SESSIONS = RestateSessionService()
weather_app = App(name="weather", root_agent=weather_agent, plugins=[PLUGIN])
budget_app = App(name="budget", root_agent=weather_agent, plugins=[DurablePlugin(max_tokens=20)])
compacting_app = App(
    name="compacting",
    root_agent=LlmAgent(name="chatty", model=_model(), instruction="Chat."),
    plugins=[PLUGIN],
    events_compaction_config=EventsCompactionConfig(compaction_interval=2, overlap_size=0),
)
timeout_app = App(
    name="approval_timeout", root_agent=weather_agent, plugins=[DurablePlugin(approval_timeout=timedelta(seconds=1))]
)

# --- multi-agent: a sequential pipeline, a parallel fan-out and an agent used as a tool ----------
researcher = LlmAgent(name="researcher", model=_model(), instruction="Research.", output_key="research")
writer = LlmAgent(name="writer", model=_model(), instruction="Write from {research}.")
pipeline = SequentialAgent(name="pipeline", sub_agents=[researcher, writer])
fan_out = ParallelAgent(
    name="fan_out",
    sub_agents=[
        LlmAgent(name="north", model=_model(), instruction="North.", tools=[get_weather]),
        LlmAgent(name="south", model=_model(), instruction="South.", tools=[get_weather]),
    ],
)
expert = LlmAgent(name="expert", model=_model(), instruction="Answer weather questions.", tools=[get_weather])
boss = LlmAgent(name="boss", model=_model(), instruction="Delegate.", tools=[AgentTool(agent=expert)])
drafter = LlmAgent(name="drafter", model=_model(), instruction="Draft, or exit the loop when done.", tools=[exit_loop])
loop = LoopAgent(name="loop", sub_agents=[drafter], max_iterations=4)
multi_apps = {
    "loop": App(name="loop", root_agent=loop, plugins=[PLUGIN]),
    "pipeline": App(name="pipeline", root_agent=pipeline, plugins=[PLUGIN]),
    "fan_out": App(name="fan_out", root_agent=fan_out, plugins=[PLUGIN]),
    "boss": App(name="boss", root_agent=boss, plugins=[PLUGIN]),
}


class Message(BaseModel):
    message: str
    app: str = "weather"
    stream: bool = False


def _app(name: str) -> App:
    apps = {
        "weather": weather_app,
        "budget": budget_app,
        "approval_timeout": timeout_app,
        "compacting": compacting_app,
        **multi_apps,
    }
    return apps[name]


async def _run(ctx: restate.ObjectContext, request: Message) -> str:
    runner = Runner(app=_app(request.app), session_service=SESSIONS, auto_create_session=True)
    config = RunConfig(streaming_mode=StreamingMode.SSE if request.stream else StreamingMode.NONE)
    try:
        return await final_text(
            runner, user_id=ctx.key(), session_id=ctx.key(), message=request.message, run_config=config
        )
    except restate.TerminalError as err:
        record_effect(f"handler-caught-terminal:{err.message}")
        raise


remote_expert = LlmAgent(name="remote_expert", model=_model(), instruction="Answer weather questions.")
remote_app = App(name="remote", root_agent=remote_expert, plugins=[PLUGIN])
remote = restate.Service("AdkRemote")


@remote.handler()
async def ask(ctx: restate.Context, question: str) -> str:
    """A remote agent: its own service, its own journal; callers reach it with a durable call."""
    runner = Runner(app=remote_app, session_service=InMemorySessionService(), auto_create_session=True)
    return await final_text(runner, user_id="remote", session_id=str(ctx.uuid()), message=question)


chat = restate.VirtualObject("AdkChat")


@chat.handler()
async def message(ctx: restate.ObjectContext, request: Message) -> str:
    record_effect(f"attempt:{request.message}")  # not journaled: once per attempt of the handler
    return await _run(ctx, request)


@chat.handler(kind="shared")
async def history(ctx: restate.ObjectSharedContext) -> list[dict[str, Any]]:
    """The session's events as stored: author and text/function parts."""
    events = []
    for event in await stored_events(ctx):
        parts = (event.get("content") or {}).get("parts") or []
        compacted = ((event.get("actions") or {}).get("compaction") or {}).get("compactedContent")
        events.append({"author": event.get("author"), "id": event.get("id"), "parts": parts, "compaction": compacted})
    return events


@chat.handler(kind="shared")
async def state(ctx: restate.ObjectSharedContext) -> dict[str, Any]:
    meta = await ctx.get(f"adk:session:{ctx.key()}", type_hint=dict[str, Any]) or {}
    return dict(meta.get("state") or {})


app = restate.app([chat, remote])
