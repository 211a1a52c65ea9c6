"""Parallelisation: parallel tool calls (``ParallelToolAgent/run``) and parallel agents
(``ParallelAgentsService/analyze``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_calls
from patterns import DEFAULT_ANALYSES, Analysis, parallel_agents_service

from ..conftest import Effects
from .conftest import APP, CUSTOM, tool_messages, unique


def test_parallel_tools_runs_one_turns_calls_together_in_call_order(
    any_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    cities = ["New York", "San Francisco", "Boston"]

    def respond(request: ModelRequest) -> Reply:
        outputs = tool_messages(request)
        if not outputs:
            return tool_calls(*[("get_weather", {"city": c}) for c in cities])
        return text(" | ".join(json.loads(o["content"])["city"] for o in outputs))

    model_server.responder = respond
    stack = served(any_server, APP)
    answer = stack.ingress.call("ParallelToolAgent", "run", {})

    assert answer == " | ".join(cities)
    assert len(model_server.requests) == 2
    second = model_server.requests[1]
    assistant = next(m for m in second.items if m.get("role") == "assistant")
    call_ids = [c["id"] for c in assistant["tool_calls"]]
    assert [m["tool_call_id"] for m in tool_messages(second)] == call_ids


def test_parallel_tool_calls_are_in_flight_at_the_same_time(
    restate_server: RestateServer,
    served: Callable[[RestateServer, str], Stack],
    model_server: ScriptedModelServer,
    effects: Effects,
) -> None:
    cities = [unique("city") for _ in range(3)]

    def respond(request: ModelRequest) -> Reply:
        if not tool_messages(request):
            return tool_calls(*[("get_weather", {"city": c}) for c in cities])
        return text(",".join(o["content"] for o in tool_messages(request)))

    model_server.responder = respond
    stack = served(restate_server, CUSTOM)
    invocation = stack.ingress.send("GatedParallelTools", "run", {"message": "weather?"})
    for city in cities:  # every call started while none of them could finish
        effects.wait_for(f"weather-started:{city}")
    for city in reversed(cities):  # finish in reverse: results still come back in call order
        effects.open_gate(f"weather-{city}")
    assert stack.ingress.attach(invocation) == ",".join(f"sunny in {c}" for c in cities)


def test_parallel_agents_are_in_flight_together_and_return_a_list_in_declaration_order(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    tag = unique("analysis")
    # each analysis' model call is answered only once all three have arrived: run one after
    # another, the first would wait alone until the barrier gives up
    all_arrived = threading.Barrier(len(DEFAULT_ANALYSES), timeout=30)

    def respond(request: ModelRequest) -> Reply:
        analysis = next((a for a in DEFAULT_ANALYSES if a.instructions in request.system), None)
        if analysis is None:
            return text("unexpected request")
        try:
            all_arrived.wait()
        except threading.BrokenBarrierError:
            return text(f"{analysis.name} ran alone")
        return text(f"{analysis.name} of {request.last_user_text}")

    model_server.responder = respond
    stack = served(restate_server, APP)
    result = stack.ingress.call("ParallelAgentsService", "analyze", {"message": tag})

    # the docs' page shows a list of the three answers
    assert result == [f"sentiment of {tag}", f"key_points of {tag}", f"summary of {tag}"]
    assert len(model_server.requests) == 3


def test_analyses_are_checked_when_the_service_is_built() -> None:
    with pytest.raises(ValueError, match="at least one analysis is required"):
        parallel_agents_service([])
    with pytest.raises(ValueError, match=r"analysis names must be unique, got duplicates: \['tone'\]"):
        parallel_agents_service([Analysis("tone", "a"), Analysis("tone", "b")])
