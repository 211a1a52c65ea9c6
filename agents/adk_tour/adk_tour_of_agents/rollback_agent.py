"""Rollback: a booking agent that undoes its bookings when a later one fails (a saga).

Try it: the "rollback" example of ``agents/adk_tour/launch.toml``.

Each tool registers its undo action before it books, and books in a journaled step. Flights to San
Francisco are sold out: ``Book flight`` fails with a ``TerminalError``, which ADK's tool error
handling passes on (no ``on_tool_error_callback`` answers it), so it ends the agent's run; the
handler then runs the undo actions newest first (``Cancel flight``, ``Cancel hotel``), each a
journaled step, and fails the invocation with the booking error.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextvars import ContextVar

import restate
from google.adk.agents import LlmAgent
from pydantic import BaseModel

from integrations.awakeables import announce
from integrations.google_adk import restate_context

from .utils import durable_app, fresh_sessions, model, run_agent

TRIP = (
    "I need to book a business trip to San Francisco from March 15-17. "
    "Flying from JFK, need a hotel downtown for 1 guest."
)
BOOKING_RULES = (
    "Book a complete travel package with the requirements in the prompt. "
    "Use tools to first book the hotel, then the flight."
)


class BookingPrompt(BaseModel):
    booking_id: str = "booking_123"
    message: str = TRIP


def reserve(booking_id: str, what: str) -> str:
    """Reserve something (simulated); flights to San Francisco are sold out, to show the rollback."""
    announce(f"Reserving {what} for {booking_id}")
    if what.startswith("flight") and "San Francisco" in what:
        raise restate.TerminalError("[👻 SIMULATED] Flight booking failed: No flights to SFO available...")
    return f"{what}: confirmed ({booking_id})"


def cancel(booking_id: str, what: str) -> None:
    """Cancel a reservation (simulated)."""
    announce(f"Cancelling {what} booking {booking_id}")


_undo: ContextVar[tuple[str, list[Callable[[], Awaitable[None]]]]] = ContextVar("adk_tour_booking")
"""The running booking's id and its undo actions, newest last (set by the handler)."""


async def _book(ctx: restate.Context, kind: str, what: str) -> str:
    booking_id, undo = _undo.get()
    # Register the undo action first, so it exists even if the booking step fails half-way
    undo.append(lambda: ctx.run_typed(f"Cancel {kind}", cancel, booking_id=booking_id, what=kind))
    return await ctx.run_typed(f"Book {kind}", reserve, booking_id=booking_id, what=what)


async def book_hotel(name: str, dates: str, guests: int) -> str:
    """Book a hotel: its name, the dates (check-in to check-out), how many guests."""
    return await _book(restate_context(), "hotel", f"hotel {name}, {dates}, {guests} guest(s)")


async def book_flight(origin: str, destination: str, date: str, passengers: int) -> str:
    """Book a flight: from where to where, on which date(s), for how many passengers."""
    return await _book(restate_context(), "flight", f"flight {origin} to {destination} on {date}, {passengers} seat(s)")


agent = LlmAgent(
    model=model(),
    name="booking_agent",
    instruction=BOOKING_RULES,
    tools=[book_hotel, book_flight],
)

app = durable_app("booking", agent)

agent_service = restate.Service("BookingWithRollbackAgent")


@agent_service.handler()
async def book(ctx: restate.Context, prompt: BookingPrompt) -> str:
    undo: list[Callable[[], Awaitable[None]]] = []
    token = _undo.set((prompt.booking_id, undo))
    try:
        return await run_agent(
            app, prompt.message, user_id=prompt.booking_id, session_id=prompt.booking_id, sessions=fresh_sessions()
        )
    except restate.TerminalError:
        # Undo what was booked, newest first, then fail the invocation
        for compensation in reversed(undo):
            await compensation()
        raise
    finally:
        _undo.reset(token)
