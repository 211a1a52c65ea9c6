"""Advanced: a booking agent that undoes its bookings when a later one fails (a saga).

    curl localhost:8080/BookingWithRollbackAgent/book --json '{"booking_id": "booking_123",
      "message": "I need to book a business trip to San Francisco from March 15-17. Flying from JFK,
      need a hotel downtown for 1 guest."}'

Each tool registers its undo action before it books. The flight to San Francisco fails with a
``TerminalError``; ``raise_restate_errors`` lets it end the agent run, and the handler runs the
undo actions in reverse order (``Cancel flight``, then ``Cancel hotel``) before failing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import restate
from agents import Agent, RunContextWrapper, Runner, function_tool
from pydantic import BaseModel, ConfigDict, Field
from restate import TerminalError

from integrations.openai_agents import raise_restate_errors

from ..utils.models import BookingPrompt, BookingResult, FlightBooking, HotelBooking
from ..utils.utils import cancel_flight, cancel_hotel, durable_run_config, reserve_flight, reserve_hotel


# The run context carries the Restate context and the undo actions collected so far
class BookingContext(BaseModel):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    booking_id: str
    restate_context: restate.Context
    on_rollback: list[Callable[[], Awaitable[None]]] = Field(default=[])


# raise_restate_errors: a TerminalError in a tool ends the run instead of going to the model
@function_tool(failure_error_function=raise_restate_errors)
async def book_hotel(wrapper: RunContextWrapper[BookingContext], booking: HotelBooking) -> BookingResult:
    """Book a hotel."""
    booking_context = wrapper.context

    # Register the undo action first, so it exists even if the booking step fails half-way
    booking_context.on_rollback.append(
        lambda: booking_context.restate_context.run_typed(
            "Cancel hotel", cancel_hotel, booking_id=booking_context.booking_id
        )
    )

    # Then book, as a journaled step
    return await booking_context.restate_context.run_typed(
        "Book hotel", reserve_hotel, booking_id=booking_context.booking_id, booking=booking
    )


@function_tool(failure_error_function=raise_restate_errors)
async def book_flight(wrapper: RunContextWrapper[BookingContext], booking: FlightBooking) -> BookingResult:
    """Book a flight."""
    booking_context = wrapper.context

    booking_context.on_rollback.append(
        lambda: booking_context.restate_context.run_typed(
            "Cancel flight", cancel_flight, booking_id=booking_context.booking_id
        )
    )
    return await booking_context.restate_context.run_typed(
        "Book flight", reserve_flight, booking_id=booking_context.booking_id, booking=booking
    )


# More bookings (a car, ...) would follow the same shape


agent_service = restate.Service("BookingWithRollbackAgent")


@agent_service.handler()
async def book(restate_context: restate.Context, prompt: BookingPrompt) -> str:
    booking_context = BookingContext(booking_id=prompt.booking_id, restate_context=restate_context)

    booking_agent = Agent[BookingContext](
        name="BookingWithRollbackAgent",
        instructions="Book a complete travel package with the requirements in the prompt. "
        "Use tools to first book the hotel, then the flight.",
        tools=[book_hotel, book_flight],
    )

    try:
        result = await Runner.run(
            booking_agent,
            input=prompt.message,
            context=booking_context,
            run_config=durable_run_config(restate_context),
        )
    except TerminalError as e:
        # Undo what was booked, newest first, then fail the invocation
        for compensation in reversed(booking_context.on_rollback):
            await compensation()
        raise e

    return result.final_output
