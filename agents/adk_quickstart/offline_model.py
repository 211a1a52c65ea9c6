"""The scripted model ``./dev up adk_quickstart`` uses when no real model is configured.

It plays the ADK weather agent's LLM: asks ``get_weather`` for the city in the question, then reads
the tool result back as an answer. The model -> tool -> model traffic still flows through
restate-server (ADK's LiteLLM client talks to this scripted server); only the answers are canned.
"""

from __future__ import annotations

import json
import re

from integrations.testing import ModelRequest, Reply, text, tool_call

_CITY = re.compile(r"\b(?:in|for|at)\s+([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*)")


def responder(request: ModelRequest) -> Reply:
    outputs = request.tool_outputs()
    if outputs:
        try:
            weather = json.loads(outputs[-1])
        except ValueError:
            weather = None
        if not isinstance(weather, dict) or not {"city", "temperature_celsius", "source"} <= weather.keys():
            return text(f"[offline model] The weather tool said: {outputs[-1]}")
        return text(
            f"[offline model] In {weather['city']} it is {float(weather['temperature_celsius']):g}°C and "
            f"{weather.get('description', '')} (source: {weather['source']})."
        )
    match = _CITY.search(request.last_user_text)
    if "get_weather" in request.tool_names() and match:
        return tool_call("get_weather", {"city": match.group(1)})
    return text("[offline model] Ask me about the weather in a city, e.g. 'What is the weather in Detroit?'")
