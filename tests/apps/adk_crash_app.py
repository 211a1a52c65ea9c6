"""A Google ADK agent run on ``integrations.google_adk`` that can be held at any named point, so a
test kills the service (or the server) exactly there; plus the multi-agent apps the durability tests
run on an always-replay server.

One run (``AdkCrash/<tag>/run`` with the message ``<tag>``) of ``trip_agent``:

1. model call 1 answers with two parallel tool calls, ``lookup_flight`` and ``book_hotel``;
2. model call 2 answers with a call of ``pay_deposit``, which needs a person's approval
   (``FunctionTool(require_confirmation=True)``, resolved over an awakeable by the test);
3. ``pay_deposit`` runs once approved; model call 3 answers with the final text.

Its points, in the order a run passes them (:data:`POINTS`):

- ``start`` / ``end``: handler code before and after the ADK run;
- ``model{t}:call`` / ``model{t}:answered``: inside model step *t*, before the request is sent and
  after the model answered but before the answer is journaled (the ``GatedLlm`` under ``DurableLlm``);
- ``model{t}:journaled``: the agent's ``after_model_callback``, after the step's result was journaled;
- ``<tool>:inside``: inside the tool's journaled step, after its side effect ran;
- ``<tool>:journaled``: the agent's ``after_tool_callback``, after the tool's step was journaled;
- ``pay_deposit:approved``: the agent's ``before_tool_callback``, after the decision was journaled.

A test holds run ``<tag>`` at point *k* by writing *k* into ``$GATE_DIR/crash-<tag>``: the first
time the run reaches *k* the app records ``reached:<k>:<tag>`` and waits while the file still names
*k*. The test kills the service, removes the file and restarts it.

``AdkFlows`` runs the multi-agent apps (``sub_agents`` transfer, Sequential/Parallel/Loop agents) and
``AdkPeerFlows`` a ``SequentialAgent`` on the restate-sdk's own ``restate.ext.adk``, for contrast.

Lines in ``$EFFECTS_FILE`` (they survive a kill -9), those marked * with an ``@<monotonic time>``
suffix comparable with the scripted model server's ``received_at``: ``effect:<tool>:<tag>`` * each
time a tool body really runs, ``journaled:<tool>:<tag>`` * and ``model-journaled:<t>:<tag>`` * after a
step's result was journaled (again on every replay), ``reached:<point>:<tag>``.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

import litellm
import restate
from google.adk.agents import LlmAgent, SequentialAgent
from google.adk.agents.callback_context import CallbackContext
from google.adk.apps import App
from google.adk.models.base_llm import BaseLlm
from google.adk.models.lite_llm import LiteLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.tool_context import ToolContext
from google.genai import types
from pydantic import BaseModel
from restate.ext.adk import RestatePlugin as PeerPlugin, RestateSessionService as PeerSessions

from integrations.google_adk import DurablePlugin, RestateSessionService, StepRetry
from tests.apps._adk_crash_points import APPROVED_TOOL, PARALLEL_TOOLS, point
from tests.apps._support import record_effect, stamped
from tests.apps.adk_app import multi_apps
from tests.apps.adk_common import final_text, stored_events


# --- the agent -------------------------------------------------------------------------------------
def _last_message(contents: list[types.Content]) -> int:
    """The index of the person's last message (a user content with text, not a tool's response)."""
    for index in range(len(contents) - 1, -1, -1):
        content = contents[index]
        if content.role == "user" and content.parts and content.parts[0].text:
            return index
    return -1


def tag_of_request(contents: list[types.Content]) -> str:
    """The run's tag: the person's last message."""
    index = _last_message(contents)
    parts = contents[index].parts if index >= 0 else None
    return (parts[0].text or "") if parts else ""


def turn_of_request(contents: list[types.Content]) -> int:
    """Which model call of the run a request is: 1 + the model turns since the person's last message."""
    return 1 + sum(1 for content in contents[_last_message(contents) + 1 :] if content.role == "model")


def turn_of_response(response: LlmResponse) -> int:
    names = (
        {part.function_call.name for part in (response.content.parts or []) if part.function_call}
        if (response.content)
        else set()
    )
    if names & set(PARALLEL_TOOLS):
        return 1
    return 2 if APPROVED_TOOL in names else 3


class GatedLlm(BaseLlm):
    """ADK's ``LiteLlm`` with two hold points inside the journaled model step (``DurablePlugin``
    wraps this model in ``DurableLlm``: everything here runs inside the step)."""

    inner: BaseLlm

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        tag = tag_of_request(llm_request.contents)
        turn = turn_of_request(llm_request.contents)
        await point(tag, f"model{turn}:call")
        responses = [response async for response in self.inner.generate_content_async(llm_request, stream=stream)]
        await point(tag, f"model{turn}:answered")
        for response in responses:
            yield response


def _tag_of(callback_context: CallbackContext | ToolContext) -> str:
    content = callback_context.user_content
    return content.parts[0].text or "" if content is not None and content.parts else ""


async def _model_journaled(callback_context: CallbackContext, llm_response: LlmResponse) -> LlmResponse | None:
    tag, turn = _tag_of(callback_context), turn_of_response(llm_response)
    record_effect(stamped(f"model-journaled:{turn}:{tag}"))
    await point(tag, f"model{turn}:journaled")
    return None


async def _approved(tool: BaseTool, args: dict[str, Any], tool_context: ToolContext) -> dict[str, Any] | None:
    if tool.name == APPROVED_TOOL:  # the plugin's before_tool_callback ran first: the decision is journaled
        await point(_tag_of(tool_context), f"{APPROVED_TOOL}:approved")
    return None


async def _tool_journaled(
    tool: BaseTool, args: dict[str, Any], tool_context: ToolContext, tool_response: dict[str, Any]
) -> dict[str, Any] | None:
    tag = _tag_of(tool_context)
    record_effect(stamped(f"journaled:{tool.name}:{tag}"))
    await point(tag, f"{tool.name}:journaled")
    return None


async def _side_effect(name: str, item: str) -> str:
    record_effect(stamped(f"effect:{name}:{item}"))
    await point(item, f"{name}:inside")
    return f"{name}({item}) ok"


async def lookup_flight(item: str) -> str:
    """Find a flight for the trip."""
    return await _side_effect("lookup_flight", item)


async def book_hotel(item: str) -> str:
    """Book the hotel of the trip."""
    return await _side_effect("book_hotel", item)


async def pay_deposit(item: str) -> str:
    """Pay the trip's deposit: a person approves every call."""
    return await _side_effect("pay_deposit", item)


def _lite_llm() -> LiteLlm:
    return LiteLlm(model="openai/gpt-test", api_base=os.environ["OPENAI_BASE_URL"], api_key="sk-test")


trip_agent = LlmAgent(
    name="trip",
    model=GatedLlm(model="openai/gpt-test", inner=_lite_llm()),
    instruction="Plan the trip: look up the flight and the hotel at once, pay the deposit, then summarise.",
    tools=[lookup_flight, book_hotel, FunctionTool(pay_deposit, require_confirmation=True)],
    after_model_callback=_model_journaled,
    before_tool_callback=_approved,
    after_tool_callback=_tool_journaled,
)
trip_app = App(
    name="trip",
    root_agent=trip_agent,
    plugins=[DurablePlugin(retry=StepRetry(max_attempts=3, initial_retry_interval=timedelta(milliseconds=50)))],
)
SESSIONS = RestateSessionService()

# A killed service is back within a second: retry soon rather than back off for long, never pause a
# run; and keep the journal of a completed run, so a test compares it with the crash-free run's.
_OBJECT_OPTIONS: dict[str, Any] = {
    "invocation_retry_policy": restate.InvocationRetryPolicy(
        initial_interval=timedelta(milliseconds=100), max_interval=timedelta(milliseconds=500), max_attempts=1_000_000
    ),
    "journal_retention": timedelta(hours=1),
}


async def _answer(runner: Runner, ctx: restate.ObjectContext, message: str) -> str:
    return await final_text(runner, user_id=ctx.key(), session_id=ctx.key(), message=message)


crash = restate.VirtualObject("AdkCrash", **_OBJECT_OPTIONS)


@crash.handler()
async def run(ctx: restate.ObjectContext, message: str) -> str:
    await point(message, "start")
    answer = await _answer(Runner(app=trip_app, session_service=SESSIONS, auto_create_session=True), ctx, message)
    await point(message, "end")
    return answer


@crash.handler(kind="shared")
async def history(ctx: restate.ObjectSharedContext) -> list[dict[str, Any]]:
    """The session's events as stored (ids, authors, contents): a test compares them across restarts."""
    keys = ("id", "author", "timestamp", "content", "invocationId")
    return [{key: event.get(key) for key in keys} for event in await stored_events(ctx)]


# --- multi-agent apps, run on an always-replay server --------------------------------------------
async def refund(order: str) -> str:
    """Refund an order."""
    record_effect(f"refund:{order}")
    return f"refunded {order}"


billing = LlmAgent(name="billing", model=_lite_llm(), instruction="Billing: refund orders.", tools=[refund])
coordinator = LlmAgent(
    name="coordinator", model=_lite_llm(), instruction="Coordinate: hand billing to billing.", sub_agents=[billing]
)
flow_apps: dict[str, App] = {
    **multi_apps,
    "transfer": App(name="transfer", root_agent=coordinator, plugins=[DurablePlugin()]),
}


class FlowRequest(BaseModel):
    message: str
    app: str


flows = restate.VirtualObject("AdkFlows", **_OBJECT_OPTIONS)


@flows.handler()
async def flow(ctx: restate.ObjectContext, request: FlowRequest) -> str:
    runner = Runner(app=flow_apps[request.app], session_service=SESSIONS, auto_create_session=True)
    return await _answer(runner, ctx, request.message)


@flows.handler(kind="shared")
async def authors(ctx: restate.ObjectSharedContext) -> list[str]:
    return [str(event.get("author")) for event in await stored_events(ctx)]


# --- the same pipeline on the restate-sdk's own restate.ext.adk, for contrast ------------------
peer_pipeline = SequentialAgent(
    name="peer_pipeline",
    sub_agents=[
        LlmAgent(name="peer_researcher", model=_lite_llm(), instruction="Research.", output_key="research"),
        LlmAgent(name="peer_writer", model=_lite_llm(), instruction="Write from {research}."),
    ],
)
peer_app = App(name="peer_pipeline", root_agent=peer_pipeline, plugins=[PeerPlugin()])
peer = restate.VirtualObject("AdkPeerFlows", **_OBJECT_OPTIONS)


@peer.handler()
async def peer_flow(ctx: restate.ObjectContext, message: str) -> str:
    runner = Runner(app=peer_app, session_service=PeerSessions(), auto_create_session=True)
    return await _answer(runner, ctx, message)


app = restate.app([crash, flows, peer])


# --- warm-up -----------------------------------------------------------------------------------
class _OfflineLlm(BaseLlm):
    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        yield LlmResponse(content=types.Content(role="model", parts=[types.Part(text="warm")]))


async def _warm_up() -> None:
    """One plain ADK run and one offline LiteLLM completion: ADK and LiteLLM import most of their
    modules at their first run and call (seconds on a loaded machine), which a test's restarted
    service would pay again after every kill. Run at import, so the pre-imported zygote process
    (tests/durability/_warm_serve.py) does it once for all the service processes it forks."""
    from google.adk.sessions import InMemorySessionService

    agent = LlmAgent(name="warm", model=_OfflineLlm(model="offline"), instruction="Warm up.", tools=[lookup_flight])
    runner = Runner(app=App(name="warm", root_agent=agent), session_service=InMemorySessionService())
    await runner.session_service.create_session(app_name="warm", user_id="warm", session_id="warm")
    message = types.Content(role="user", parts=[types.Part(text="warm up")])
    async for _ in runner.run_async(user_id="warm", session_id="warm", new_message=message):
        pass
    await litellm.acompletion(
        model="openai/gpt-test", messages=[{"role": "user", "content": "warm up"}], mock_response="warm", api_key="sk"
    )


if os.environ.get("ADK_CRASH_WARM_UP"):
    asyncio.run(_warm_up())
