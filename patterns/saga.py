"""Sagas: an agent that books several things and undoes them in reverse order when a step fails
for good.

Each successful tool call registers its compensation; a ``TerminalError`` (a tool saying "this
cannot work", exhausted retries, or a cancellation of the invocation) runs the compensations in
reverse order, each as its own journaled step retried until it succeeds, then fails the
invocation with the original error. After a crash mid-rollback, the journal skips compensations
that already ran and resumes with the next one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import restate
from pydantic import BaseModel, Field

from integrations.testing import ModelRequest, Reply

from ._llm import chat
from ._loop import DEFAULT_MAX_TURNS, run_agent_loop
from ._offline import answer, instructed, tool_call
from ._pattern import Pattern
from ._tools import TOOL_ATTEMPTS, LocalTool, PendingToolResult, ToolFunction, ToolInput, resolve
from ._validation import unique_by_name

__all__ = [
    "PATTERN",
    "BookingRequest",
    "CarBooking",
    "CompensatedTool",
    "Compensation",
    "DEFAULT_BOOKING_TOOLS",
    "FlightBooking",
    "HotelBooking",
    "offline_script",
    "saga_service",
]

Compensation = Callable[[ToolInput, str], Any]
"""Undoes one successful action; gets the action's input and its (journaled) result text.
Must be idempotent: it is retried until it succeeds."""


@dataclass(frozen=True)
class CompensatedTool:
    """A tool with an undo: ``action`` runs as a journaled step; once it succeeded,
    ``compensation`` is registered to run if the saga fails later."""

    name: str
    description: str
    action: ToolFunction
    compensation: Compensation
    parameters: type[BaseModel] | None = None
    max_attempts: int = TOOL_ATTEMPTS


class BookingRequest(BaseModel):
    """A trip to book; ``booking_id`` makes the bookings idempotent at the providers."""

    booking_id: str = "booking-42"
    message: str = "Book a hotel in Paris for 2 nights from 2025-06-01, a flight from Berlin, and a convertible car."


class HotelBooking(BaseModel):
    city: str = Field(description="City of the hotel")
    nights: int = Field(default=1, description="Number of nights")


class FlightBooking(BaseModel):
    origin: str = Field(description="Departure city")
    destination: str = Field(description="Arrival city")


class CarBooking(BaseModel):
    city: str = Field(description="Pick-up city")
    car_type: str = Field(default="compact", description="'compact', 'sedan' or 'convertible'")


def _booking_id(tool_input: ToolInput) -> str:
    return str(getattr(tool_input.request, "booking_id", "unknown"))


def _book_hotel(tool_input: ToolInput) -> dict[str, str]:
    return {"hotel_reservation": f"{_booking_id(tool_input)}-hotel", "city": tool_input.arguments.city}


def _book_flight(tool_input: ToolInput) -> dict[str, str]:
    args = tool_input.arguments
    return {"flight_reservation": f"{_booking_id(tool_input)}-flight", "route": f"{args.origin}->{args.destination}"}


def _book_car(tool_input: ToolInput) -> dict[str, str]:
    if tool_input.arguments.car_type == "convertible":
        # a business failure, not a glitch: retrying cannot help, so the saga rolls back
        raise restate.TerminalError("No convertible cars available")
    return {"car_reservation": f"{_booking_id(tool_input)}-car", "car_type": tool_input.arguments.car_type}


def _cancel(kind: str) -> Compensation:
    def cancel(tool_input: ToolInput, result: str) -> str:
        return f"cancelled {kind} of {_booking_id(tool_input)}"

    return cancel


DEFAULT_BOOKING_TOOLS: tuple[CompensatedTool, ...] = (
    CompensatedTool("book_hotel", "Reserve a hotel", _book_hotel, _cancel("hotel"), HotelBooking),
    CompensatedTool("book_flight", "Reserve a flight", _book_flight, _cancel("flight"), FlightBooking),
    CompensatedTool("book_car", "Reserve a rental car", _book_car, _cancel("car"), CarBooking),
)

BOOKING_PROMPT = (
    "Book a complete travel package as requested. Use the tools one at a time: first the hotel, "
    "then the flight, then the car. When everything is booked, summarise the reservations."
)


async def _compensate(compensation: Compensation, tool_input: ToolInput, result: str) -> str:
    return await resolve(compensation(tool_input, result))


def saga_service(
    tools: Sequence[CompensatedTool] = DEFAULT_BOOKING_TOOLS,
    *,
    name: str = "BookingWithRollbackAgent",
    instructions: str = BOOKING_PROMPT,
    model: str | None = None,
    max_turns: int = DEFAULT_MAX_TURNS,
) -> restate.Service:
    """A service whose ``book`` handler is the shared agent loop over compensated tools (run one
    after another, since bookings depend on each other) that rolls back on a terminal failure."""
    chosen = unique_by_name(tools, "tool")
    by_name = {t.name: t for t in chosen}
    actions = [LocalTool(t.name, t.description, t.action, t.parameters, t.max_attempts) for t in chosen]
    service = restate.Service(name)

    @service.handler()
    async def book(ctx: restate.Context, request: BookingRequest) -> str:
        """Let the model book with the tools; on a terminal error undo the bookings in reverse."""
        done: list[tuple[CompensatedTool, ToolInput, str]] = []

        def register(started: PendingToolResult, output: str) -> None:
            # runs in the handler once the action's result is journaled: from now on it needs undoing
            assert started.tool is not None and started.tool_input is not None
            done.append((by_name[started.tool.name], started.tool_input, output))

        try:
            return await run_agent_loop(
                ctx,
                chat(instructions, request.message),
                actions,
                request=request,
                model=model,
                parallel=False,
                max_turns=max_turns,
                on_tool_result=register,
            )
        except restate.TerminalError:
            for compensated, tool_input, output in reversed(done):
                # no attempt limit: a rollback must complete, so it is retried until it does
                await ctx.run_typed(
                    f"undo {compensated.name}",
                    _compensate,
                    restate.RunOptions(),
                    compensated.compensation,
                    tool_input,
                    output,
                )
            raise

    return service


# -- offline script ------------------------------------------------------------------------------


def offline_script(request: ModelRequest) -> Reply | None:
    """The offline model as the default booking agent: hotel, then flight, then car, one at a
    time. A convertible (the default request asks for one) is never available, so the saga rolls
    back the flight and the hotel."""
    if not instructed(request, BOOKING_PROMPT):
        return None
    car = "convertible" if "convertible" in request.last_user_text.lower() else "compact"
    steps: list[tuple[str, dict[str, Any]]] = [
        ("book_hotel", {"city": "Paris", "nights": 2}),
        ("book_flight", {"origin": "Berlin", "destination": "Paris"}),
        ("book_car", {"city": "Paris", "car_type": car}),
    ]
    outputs = request.tool_outputs()
    if len(outputs) < len(steps):
        name, arguments = steps[len(outputs)]
        return tool_call(name, arguments)
    return answer("Booked: " + "; ".join(outputs))


PATTERN = Pattern(defaults=lambda: {"booking_with_rollback_agent": saga_service()}, offline_script=offline_script)
"""The default instances ``patterns.app`` serves, by name, and the offline script that plays them."""
