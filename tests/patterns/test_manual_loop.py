"""The hand-written agent loop (``ManualLoopAgent/run``)."""

from __future__ import annotations

import json
from collections.abc import Callable

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call, tool_calls

from .conftest import APP, tool_messages


def test_manual_loop_answers_unknown_tools_and_loops_until_done(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    def respond(request: ModelRequest) -> Reply:
        outputs = tool_messages(request)
        if not outputs:
            return tool_calls(("get_weather", {"city": "Oslo"}), ("get_stock_price", {"ticker": "X"}))
        if len(outputs) == 2:
            return tool_call("get_weather", {"town": "Rome"})  # invalid arguments
        return text(" / ".join(o["content"] for o in outputs))

    model_server.responder = respond
    stack = served(restate_server, APP)
    answer = stack.ingress.call("ManualLoopAgent", "run", {"message": "Weather in Oslo?"})

    weather, unknown, invalid = answer.split(" / ")
    assert json.loads(weather)["city"] == "Oslo"
    assert unknown == "Tool not found: get_stock_price"
    assert invalid.startswith("Invalid arguments for get_weather")
    assert "You are a helpful assistant" in model_server.requests[0].system
    assert len(model_server.requests) == 3
