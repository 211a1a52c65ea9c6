"""The simulated outside world of the tour (weather API, reviewers, bookings) and the three
specialist agent services that the remote and parallel chapters call."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from typing import cast

import httpx
import restate
from agents import Agent, ModelSettings, RunConfig, Runner
from openai.types.chat import (
    ChatCompletionAssistantMessageParam,
    ChatCompletionMessage,
    ChatCompletionMessageToolCallUnionParam,
)
from restate import TerminalError

from integrations.awakeables import announce, resolve_command
from integrations.openai_agents import DurableModelCalls

from .models import MODEL, BookingResult, FlightBooking, HotelBooking, InsuranceClaim, WeatherResponse


async def fetch_weather(city: str) -> WeatherResponse:
    fail_on_denver(city)
    weather_data = await call_weather_api(city)
    return parse_weather_data(weather_data)


def fail_on_denver(city: str) -> None:
    """The retry demo: remove the call in ``fetch_weather`` and restart the service to fix it."""
    if city == "Denver":
        raise Exception("[SIMULATED] Fetching weather failed: Weather API down...")


# Sample data, used when WEATHER_OFFLINE=1 (offline mode) or when wttr.in cannot be reached.
OFFLINE_WEATHER = {
    "san francisco": (14.0, "Fog"),
    "new york": (9.0, "Partly cloudy"),
    "denver": (8.0, "Clear and windy"),
}
OFFLINE_LABEL = "offline sample data, not real weather"


def _offline_weather(city: str) -> dict:
    temperature, description = OFFLINE_WEATHER.get(city.strip().lower(), (18.0, "Mild and dry"))
    labelled = f"{description} ({OFFLINE_LABEL})"
    return {"current_condition": [{"temp_C": str(temperature), "weatherDesc": [{"value": labelled}]}]}


async def call_weather_api(city: str) -> dict:
    if os.environ.get("WEATHER_OFFLINE") == "1":
        return _offline_weather(city)
    try:
        async with httpx.AsyncClient(timeout=10.0) as client:
            resp = await client.get(f"https://wttr.in/{city}", params={"format": "j1"})
    except httpx.TransportError:
        return _offline_weather(city)  # no network: say so in the answer rather than retry forever
    if resp.status_code == 404 or resp.text.startswith("Unknown location"):
        raise TerminalError(f"Unknown location: {city}. Please provide a valid city name.")
    resp.raise_for_status()  # other HTTP errors are transient: the step is retried
    return resp.json()


def parse_weather_data(weather_data: dict) -> WeatherResponse:
    current = weather_data["current_condition"][0]
    return WeatherResponse(
        temperature=float(current["temp_C"]),
        description=current["weatherDesc"][0]["value"],
    )


async def request_human_review(claim: InsuranceClaim, awakeable_id: str) -> None:
    """Simulate asking a person for a review: print the command that answers it."""
    announce(f"Human review requested: {claim.model_dump_json(by_alias=True)}")
    announce("  Submit your claim review via:")
    announce(f"  {resolve_command(awakeable_id)}")


# Simplified analyses for the parallel tool steps


async def check_eligibility(claim: InsuranceClaim) -> str:
    """Check claim eligibility (simplified)."""
    return "eligible"


async def compare_to_standard_rates(claim: InsuranceClaim) -> str:
    """Compare the claim to standard rates (simplified)."""
    return "reasonable"


async def check_fraud(claim: InsuranceClaim) -> str:
    """Check for fraud indicators (simplified)."""
    return "low risk"


# Simulated bookings for the rollback chapter


async def reserve_hotel(booking_id: str, booking: HotelBooking) -> BookingResult:
    """Reserve a hotel (simulated)."""
    print(f"Reserving hotel {booking.name} for {booking.guests} guests", flush=True)
    return BookingResult(
        id=booking_id,
        confirmation=f"Hotel {booking.name} booked for {booking.guests} guests on {booking.dates}",
    )


async def reserve_flight(booking_id: str, booking: FlightBooking) -> BookingResult:
    """Reserve a flight (simulated): flights to San Francisco are sold out, to show the rollback."""
    print(f"Reserving flight from {booking.origin} to {booking.destination}", flush=True)
    if booking.destination in ("San Francisco", "SFO"):
        print("[SIMULATED] Flight booking failed: No flights to SFO available...", flush=True)
        raise TerminalError("[SIMULATED] Flight booking failed: No flights to SFO available...")
    return BookingResult(
        id=booking_id,
        confirmation=f"Flight from {booking.origin} to {booking.destination} on {booking.date} "
        f"for {booking.passengers} passengers",
    )


async def cancel_hotel(booking_id: str) -> None:
    """Cancel the hotel booking."""
    print(f"Cancelling hotel booking {booking_id}", flush=True)


async def cancel_flight(booking_id: str) -> None:
    """Cancel the flight booking."""
    print(f"Cancelling flight booking {booking_id}", flush=True)


def durable_run_config(restate_context: restate.Context) -> RunConfig:
    """How the chapters run their agents (the "durable agent" chapter spells it out): the tour's
    model, each model response journaled by ``DurableModelCalls``, one tool call per model turn."""
    return RunConfig(
        model=MODEL,
        model_provider=DurableModelCalls(restate_context),
        model_settings=ModelSettings(parallel_tool_calls=False),
    )


SpecialistHandler = Callable[[restate.Context, InsuranceClaim], Awaitable[str]]


def _specialist_service(
    service_name: str, handler_name: str, instructions: str
) -> tuple[restate.Service, SpecialistHandler]:
    """A specialist agent as a Restate service of its own (remote and parallel agent chapters): its one
    handler gives the agent's verdict on a claim in a one-turn run, the model call journaled. Returns
    the service (to serve) and the handler (what callers pass to ``service_call``)."""
    agent_service = restate.Service(service_name)

    @agent_service.handler(name=handler_name)
    async def run(restate_context: restate.Context, claim: InsuranceClaim) -> str:
        agent = Agent(name=service_name, instructions=instructions)
        result = await Runner.run(agent, input=claim.model_dump_json(), run_config=durable_run_config(restate_context))
        return result.final_output

    return agent_service, run


eligibility_agent_service, run_eligibility_agent = _specialist_service(
    "EligibilityAgent",
    "run_eligibility_agent",
    "Decide whether the following claim is eligible for reimbursement. "
    "Respond with eligible if it's a medical claim, and not eligible otherwise.",
)
rate_comparison_agent_service, run_rate_comparison_agent = _specialist_service(
    "RateComparisonAgent",
    "run_rate_comparison_agent",
    "Decide whether the cost of the claim is reasonable given the treatment. "
    "Respond with reasonable or not reasonable.",
)
fraud_agent_service, run_fraud_agent = _specialist_service(
    "FraudAgent",
    "run_fraud_agent",
    "Decide whether the claim is fraudulent. Always respond with low risk, medium risk, or high risk.",
)


def as_chat_completion_param(msg: ChatCompletionMessage) -> ChatCompletionAssistantMessageParam:
    """The assistant turn of a chat completion, as the next request's message (manual loop)."""
    param = ChatCompletionAssistantMessageParam(role="assistant", content=msg.content)
    if msg.tool_calls:
        # model_dump() of a response's tool call is the request param's wire shape, which the SDK types as a TypedDict
        tool_calls = [tool_call.model_dump() for tool_call in msg.tool_calls]
        param["tool_calls"] = cast("list[ChatCompletionMessageToolCallUnionParam]", tool_calls)
    return param
