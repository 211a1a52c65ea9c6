"""Deterministic stand-ins for real systems, so every default service runs as-is (no API keys
besides the model's). Replace them with your own tools when building services."""

from __future__ import annotations

import zlib

from pydantic import BaseModel, Field

from ._tools import ToolInput


class WeatherRequest(BaseModel):
    """Arguments of ``get_weather``."""

    city: str = Field(description="The city, e.g. 'Berlin'")


def get_weather(tool_input: ToolInput) -> dict[str, object]:
    """A fake but stable forecast: the same city always gets the same weather."""
    city = tool_input.arguments.city
    seed = zlib.crc32(city.lower().encode())
    conditions = ("sunny", "cloudy", "rainy", "windy", "foggy")[seed % 5]
    return {"city": city, "temperature_celsius": seed % 30, "conditions": conditions}


def query_user_database(tool_input: ToolInput) -> dict[str, object]:
    """Account data for the requesting user (taken from the request, never from the model)."""
    user_id = getattr(tool_input.request, "user_id", "unknown")
    return {"user_id": user_id, "plan": "pro", "billing_status": "paid", "api_quota_used_percent": 100}


def fetch_service_status(tool_input: ToolInput) -> dict[str, object]:
    """The status page of the (imaginary) platform."""
    return {"api": "degraded: elevated error rates in eu-west", "dashboard": "operational"}


class SupportTicket(BaseModel):
    """Arguments of ``create_support_ticket`` (the input of the remote ``SupportTickets/create``)."""

    user_id: str = "user_12345"
    message: str = Field(default="My API calls are failing.", description="What the user needs help with")
    priority: str = Field(default="normal", description="'low', 'normal' or 'high'")
