"""Deterministic stand-ins for real systems, so every default service runs as-is (no API keys
besides the model's). Replace them with your own tools when building services."""

from __future__ import annotations

import re
import zlib

from pydantic import BaseModel, Field

from integrations.testing import ModelRequest, Reply

from ._offline import answer, tool_calls
from ._tools import LocalTool, Tool, ToolInput


class WeatherRequest(BaseModel):
    """Arguments of ``get_weather``."""

    city: str = Field(description="The city, e.g. 'Berlin'")


class WeatherQuestion(BaseModel):
    """A question that makes the model call several tools in one turn."""

    message: str = "What is the weather like in New York, San Francisco and Boston?"


def get_weather(tool_input: ToolInput) -> dict[str, object]:
    """A fake but stable forecast: the same city always gets the same weather."""
    city = tool_input.arguments.city
    seed = zlib.crc32(city.lower().encode())
    conditions = ("sunny", "cloudy", "rainy", "windy", "foggy")[seed % 5]
    return {"city": city, "temperature_celsius": seed % 30, "conditions": conditions}


WEATHER_TOOL = "get_weather"

DEFAULT_WEATHER_TOOLS: tuple[Tool, ...] = (
    LocalTool(WEATHER_TOOL, "Get the current weather in a given city", get_weather, parameters=WeatherRequest),
)
"""The tools of the parallel-tools agent and the manual loop."""


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


# -- the offline model's side of the weather tools ---------------------------------------------------

_CITY = re.compile(r"\b([A-Z][a-z]+(?:\s[A-Z][a-z]+)*)\b")
_NOT_CITIES = {"What", "The", "How", "Is", "In", "And", "Weather", "I", "Use"}


def _cities(question: str) -> list[str]:
    found = [c for c in _CITY.findall(question) if c.split()[0] not in _NOT_CITIES]
    return found or ["Berlin"]


def weather_reply(request: ModelRequest) -> Reply:
    """What the offline model does with the weather tools: one ``get_weather`` call per city in
    the question, all in the same turn, then an answer built from the results."""
    outputs = request.tool_outputs()
    if not outputs:
        return tool_calls(*[(WEATHER_TOOL, {"city": city}) for city in _cities(request.last_user_text)])
    return answer("Current weather: " + " | ".join(outputs))
