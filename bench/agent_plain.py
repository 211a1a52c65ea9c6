"""The benchmark agent on plain openai-agents ``Runner.run``: no Restate, no journal.

A bare ASGI app (``POST /run`` with the message as a JSON string, the answer back as one), served by
the same serve command as the durable variants, so the only difference is durability.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from agents import Agent, ModelSettings, RunConfig, Runner, function_tool

from bench._agent_common import INSTRUCTIONS, MODEL, convert_body, time_body, weather_body


@function_tool
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return weather_body(city)


@function_tool
def get_time(city: str) -> str:
    """The local time in a city."""
    return time_body(city)


@function_tool
def convert_temperature(celsius: float) -> str:
    """Celsius to Fahrenheit."""
    return convert_body(celsius)


agent = Agent(
    name="TravelAgent",
    instructions=INSTRUCTIONS,
    tools=[get_weather, get_time, convert_temperature],
    model_settings=ModelSettings(parallel_tool_calls=False),
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] != "/run" or scope["method"] != "POST":
        await _reply(send, 404, b'{"error": "POST /run"}')
        return
    body = b""
    while True:
        event = await receive()
        body += event.get("body", b"")
        if not event.get("more_body"):
            break
    result = await Runner.run(agent, json.loads(body), run_config=RunConfig(model=MODEL))
    await _reply(send, 200, json.dumps(str(result.final_output)).encode())
