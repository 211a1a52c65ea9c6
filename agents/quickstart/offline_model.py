"""The scripted model both quickstarts use when no real model is configured (this folder's OpenAI
Agents SDK app and ``agents/adk_quickstart``: the same weather app in two SDKs).

It plays the weather agent's LLM: asks ``get_weather`` for the city in the question, then reads
the tool result back as an answer. Real model -> tool -> model traffic still flows through
restate-server; only the intelligence is canned.
"""

from __future__ import annotations

import json
import re
from typing import Any

from integrations.testing import ModelRequest, Reply, text, tool_call

_CITY = re.compile(r"\b(?:in|for|at)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")
_FIELD = re.compile(r"(\w+)=(?:'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|(\S+))")


def _tool_result(output: str) -> dict[str, str]:
    """The Agents SDK sends a pydantic tool result as its repr (``city='Detroit' ...``), ADK a dict
    as JSON."""
    try:
        parsed = json.loads(output)
        if isinstance(parsed, dict):
            return {k: str(v) for k, v in parsed.items()}
    except ValueError:
        pass
    return {m.group(1): next(g for g in m.groups()[1:] if g is not None) for m in _FIELD.finditer(output)}


def _weather_arguments(request: ModelRequest, city: str) -> dict[str, Any]:
    """The OpenAI quickstart's tool takes a ``WeatherRequest`` named ``req``, the ADK quickstart's
    plain function a ``city``: the tool's JSON schema in the request says which."""
    for tool in request.body.get("tools") or []:
        spec = tool.get("function", tool)  # Chat Completions nests it; the Responses API does not
        if spec.get("name") == "get_weather" and "req" in (spec.get("parameters") or {}).get("properties", {}):
            return {"req": {"city": city}}
    return {"city": city}


def responder(request: ModelRequest) -> Reply:
    outputs = request.tool_outputs()
    if outputs:
        weather = _tool_result(outputs[-1])
        if not {"city", "temperature_celsius", "description", "source"} <= weather.keys():
            return text(f"[offline model] The weather tool said: {outputs[-1]}")
        return text(
            f"[offline model] In {weather['city']} it is {float(weather['temperature_celsius']):g}°C and "
            f"{weather['description']} (source: {weather['source']})."
        )
    match = _CITY.search(request.last_user_text)
    if "get_weather" in request.tool_names() and match:
        return tool_call("get_weather", _weather_arguments(request, match.group(1)))
    return text("[offline model] Ask me about the weather in a city, e.g. 'What is the weather in Detroit?'")
