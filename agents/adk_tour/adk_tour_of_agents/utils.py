"""What the tour's chapters share: request models, the model, the tools, and running an ADK agent.

Every chapter's agent is a plain ADK ``LlmAgent`` in an ``App`` whose first plugin is
``DurablePlugin`` (:func:`durable_app`): its model calls are journaled steps, its plain function
tools are journaled by default, and tools that do their own Restate steps (``restate_context()``)
run as they are. :func:`run_agent` runs one message through a ``Runner`` and returns the final text.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import httpx
import restate
from google.adk.agents import BaseAgent, LlmAgent
from google.adk.apps import App
from google.adk.models.lite_llm import LiteLlm
from google.adk.runners import Runner
from google.adk.sessions import BaseSessionService, InMemorySessionService
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.tool_context import ToolContext
from google.genai import types
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from integrations.awakeables import announce, resolve_command
from integrations.google_adk import APPROVAL_TIMED_OUT, DurablePlugin, RestateSessionService, StepRetry

MODEL = os.environ.get("ADK_MODEL", "openai/gpt-4o")
"""ADK reaches OpenAI-compatible endpoints through LiteLLM; ``ADK_MODEL=gemini-2.5-flash`` (with
``GOOGLE_API_KEY``) uses ADK's own Gemini client, as the upstream tour does."""

SESSIONS = RestateSessionService()
"""ADK sessions in the calling Virtual Object's state: the object key is the user, the request's
``session_id`` the conversation."""


def model() -> LiteLlm | str:
    """The model of every agent of the tour; offline (``./dev up adk_tour`` without a key) the
    scripted offline model behind ``OPENAI_BASE_URL``."""
    if MODEL.startswith("gemini"):
        return MODEL
    return LiteLlm(model=MODEL, api_base=os.environ.get("OPENAI_BASE_URL") or None)


def durable_app(
    name: str,
    agent: BaseAgent,
    *,
    retry: StepRetry | None = None,
    tool_retry: StepRetry | None = None,
    approval_timeout: timedelta | None = None,
) -> App:
    """``agent`` in an ADK ``App`` made durable by ``DurablePlugin`` (first in the plugin list)."""
    plugin = DurablePlugin(retry=retry, tool_retry=tool_retry, approval_timeout=approval_timeout)
    return App(name=name, root_agent=agent, plugins=[plugin])


async def run_agent(
    app: App, message: str, *, user_id: str, session_id: str, sessions: BaseSessionService | None = None
) -> str:
    """Run ``message`` through ``app``'s agent and return its final answer.

    ``sessions`` defaults to :data:`SESSIONS` (Virtual Object handlers); a ``Service`` handler,
    which has no state, passes a fresh ``InMemorySessionService()``: the session lives for one
    invocation and is rebuilt from the journal on a replay.
    """
    runner = Runner(app=app, session_service=sessions or SESSIONS, auto_create_session=True)
    answer = ""
    async for event in runner.run_async(
        user_id=user_id,
        session_id=session_id,
        new_message=types.Content(role="user", parts=[types.Part.from_text(text=message)]),
    ):
        if event.is_final_response() and event.content and event.content.parts:
            said = "".join(part.text for part in event.content.parts if part.text)
            answer = said or answer
    return answer


def claim_object(name: str, app: App) -> restate.VirtualObject:
    """A Virtual Object ``name`` (key: the user) whose ``run`` handler hands a claim to ``app``'s agent,
    in the claim's ``sessionId`` conversation: the chapters that take an ``InsuranceClaim``."""
    agent_service = restate.VirtualObject(name)

    @agent_service.handler()
    async def run(ctx: restate.ObjectContext, claim: InsuranceClaim) -> str:
        return await run_agent(app, claim.prompt(), user_id=ctx.key(), session_id=claim.session_id)

    return agent_service


def fresh_sessions() -> InMemorySessionService:
    """A session store for one invocation of a stateless ``Service`` (see :func:`run_agent`)."""
    return InMemorySessionService()


# -- requests (with the tour's default messages: `{}` is a valid request) -------------------------


class WeatherPrompt(BaseModel):
    user_id: str = "user-123"
    session_id: str = "session-123"
    message: str = "What is the weather like in San Francisco?"


class ClaimPrompt(BaseModel):
    session_id: str = "session-123"
    message: str = "Process my hospital bill of 3000USD for a broken leg."


class ChatMessage(BaseModel):
    session_id: str = "session-123"
    message: str = "Make a poem about durable execution."


class InsuranceClaim(BaseModel):
    """An insurance claim; JSON in camelCase (``placeOfService``), snake_case accepted too."""

    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel)
    session_id: str = "session-123"
    date: str = "2024-10-01"
    amount: float = 3000
    category: str = "orthopedic"
    place_of_service: str = "General Hospital"
    reason: str = "hospital bill for a broken leg"

    def prompt(self) -> str:
        """The claim as the agents read it."""
        return f"Claim: {self.model_dump_json(exclude={'session_id'})}"


class WeatherResponse(BaseModel):
    temperature: float
    description: str


# -- tools -------------------------------------------------------------------------------------------


def fail_on_denver(city: str) -> None:
    """The tour's simulated outage: a transport error, which Restate retries (delete the call in
    :func:`get_weather` and restart the service to let a stuck Denver request finish)."""
    if city.strip().lower() == "denver":
        raise httpx.ConnectError("[👻 SIMULATED] Fetching weather failed: Weather API down...")


async def get_weather(city: str) -> WeatherResponse:
    """Get the current weather for a given city."""
    fail_on_denver(city)
    return WeatherResponse(temperature=23, description="Sunny (sample data, not a real forecast)")


CLAIM_RULES = """You are an insurance claim evaluation agent. Use these rules:
    - if the amount is more than 1000, ask for human approval using tools;
    - if the amount is less than 1000, decide by yourself."""


def human_approval(claim: InsuranceClaim) -> str:
    """Ask for human approval for high-value claims."""
    return "approved"  # ADK runs the body only once a person approved this call


def claim_agent() -> LlmAgent:
    """The claim agent of the approval chapters: ``human_approval`` needs a person's yes.

    ADK's own tool confirmation (``require_confirmation=True``) asks for it; ``DurablePlugin``
    answers it with a Restate awakeable: it prints the resolve (and reject) command once and the
    invocation suspends until someone runs one, across restarts.
    """
    return LlmAgent(
        model=model(),
        name="claim_approval_agent",
        instruction=CLAIM_RULES,
        tools=[FunctionTool(human_approval, require_confirmation=True)],
        after_tool_callback=decision_as_answer,
    )


def decision_as_answer(
    tool: BaseTool, args: dict[str, Any], tool_context: ToolContext, tool_response: dict[str, Any]
) -> dict[str, Any] | None:
    """Tell the model why a call was not approved: ADK answers every rejection with the same
    ``"This tool call is rejected."``; a timeout should make the agent decide by itself instead."""
    confirmation = tool_context.tool_confirmation
    if confirmation is None or confirmation.confirmed:
        return None
    if confirmation.hint == APPROVAL_TIMED_OUT:
        return {"result": "Approval timed out - Evaluate with AI"}
    return {"result": f"rejected ({confirmation.hint})" if confirmation.hint else "rejected"}


def request_review(claim: InsuranceClaim, awakeable_id: str) -> str:
    """Tell a person (here: the service log) how to approve the claim; returns the awakeable id."""
    announce(
        f"🔔 Human review requested for claim {claim.model_dump_json(by_alias=True)}\n"
        f"  Submit your claim review via:\n  {resolve_command(awakeable_id, True)}\n"
        f"  or reject it:\n  {resolve_command(awakeable_id, False)}"
    )
    return awakeable_id


MEDICAL = ("orthopedic", "medical", "dental", "surgery", "hospital")


def check_eligibility(claim: InsuranceClaim) -> str:
    """Is the claim a medical one (simplified eligibility rule)?"""
    return "eligible" if claim.category.lower() in MEDICAL else "not eligible"


def compare_to_standard_rates(claim: InsuranceClaim) -> str:
    """Is the amount within standard rates (simplified: up to 10,000)?"""
    return "reasonable" if claim.amount <= 10_000 else "not reasonable"


def check_fraud(claim: InsuranceClaim) -> str:
    """Fraud indicators (simplified: the amount alone)."""
    return "low risk" if claim.amount <= 10_000 else "medium risk"
