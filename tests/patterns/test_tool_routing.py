"""Routing to tools (``ToolRouter/route`` with the remote ``SupportTickets/create``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call, tool_calls
from patterns import LocalTool, tool_router_service

from .conftest import APP, invocations, tool_messages, unique


def test_tool_router_runs_local_tools_and_calls_the_remote_tool_service(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    user = unique("user")

    def respond(request: ModelRequest) -> Reply:
        outputs = tool_messages(request)
        if not outputs:
            return tool_calls(("query_user_database", {}), ("fetch_service_status", {}))
        if len(outputs) == 2:
            return tool_call("create_support_ticket", {"user_id": user, "message": "quota", "priority": "high"})
        ticket = json.loads(outputs[-1]["content"])
        return text(f"Your quota is used up; I opened {ticket['ticket_id']}.")

    model_server.responder = respond
    stack = served(restate_server, APP)
    router = stack.ingress.send("ToolRouter", "route", {"user_id": user, "message": "My API calls fail"})
    answer = stack.ingress.attach(router)

    assert re.fullmatch(r"Your quota is used up; I opened TICKET-\d{5}\.", answer), answer
    first, second, final = model_server.requests
    assert sorted(first.tool_names()) == ["create_support_ticket", "fetch_service_status", "query_user_database"]
    local_outputs = [json.loads(m["content"]) for m in tool_messages(second)]
    assert local_outputs[0]["user_id"] == user  # taken from the request, not from the model
    assert "degraded" in local_outputs[1]["api"]
    ticket = json.loads(tool_messages(final)[-1]["content"])
    assert ticket["user_id"] == user and ticket["priority"] == "high"
    # the remote tool was a real invocation of SupportTickets/create, made by the router
    created = invocations(restate_server, "SupportTickets", "create", invoked_by=router)
    assert len(created) == 1 and created[0]["completion_result"] == "success"


def test_tool_names_must_be_unique_when_the_service_is_built() -> None:
    def noop(tool_input: object) -> str:
        return ""

    with pytest.raises(ValueError, match=r"tool names must be unique, got duplicates: \['lookup'\]"):
        tool_router_service([LocalTool("lookup", "a", noop), LocalTool("lookup", "b", noop)])
