"""Request and tool models of the tour, with the tour's default messages.

The defaults make ``{}`` a valid request (the UI playground sends that); any field of the wrong
type fails Restate's input validation with a terminal error instead of a retry loop.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

MODEL = os.environ.get("AGENT_MODEL", "gpt-4o")
"""The model every agent of the tour asks (the tour hard-codes ``"gpt-4o"``)."""


# Prompts for the agents (with the tour's default messages)


class WeatherPrompt(BaseModel):
    message: str = "What is the weather like in San Francisco?"


class ClaimPrompt(BaseModel):
    message: str = "Process my hospital bill of 3000USD for a broken leg."


class ChatMessage(BaseModel):
    message: str = "Make a poem about durable execution."


class MultiWeatherPrompt(BaseModel):
    message: str = "What is the weather like in New York and San Francisco?"


class BookingPrompt(BaseModel):
    booking_id: str = "booking_123"
    message: str = (
        "I need to book a business trip to San Francisco from March 15-17. "
        "Flying from JFK, need a hotel downtown for 1 guest."
    )


class InsuranceClaim(BaseModel):
    """Insurance claim data structure."""

    # The tour's JSON is camelCase (``placeOfService``); snake_case is accepted as well.
    model_config = ConfigDict(populate_by_name=True, alias_generator=to_camel)

    date: str
    amount: float
    category: str
    place_of_service: str
    reason: str


class WeatherRequest(BaseModel):
    """Request to get the weather for a city."""

    model_config = ConfigDict(extra="forbid")

    city: str


class WeatherResponse(BaseModel):
    """The current weather in a city."""

    temperature: float
    description: str


# Booking-related models


class HotelBooking(BaseModel):
    """A hotel reservation."""

    name: str
    dates: str
    guests: int


class FlightBooking(BaseModel):
    """A flight reservation."""

    origin: str
    destination: str
    date: str
    passengers: int


class BookingResult(BaseModel):
    """The confirmation of one reservation."""

    id: str
    confirmation: str
