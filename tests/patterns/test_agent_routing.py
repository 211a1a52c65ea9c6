"""Routing to agents: local specialists (``AgentRouter/answer``) and remote specialist services
(``RemoteAgentRouter/answer`` -> ``BillingAgent/run`` ...)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call
from patterns import Specialist, agent_router_service, remote_agent_router_service, specialist_services

from .conftest import APP, invocations, unique


def _router_responder(tag: str) -> Callable[[ModelRequest], Reply]:
    def respond(request: ModelRequest) -> Reply:
        if "BillingAgent" in request.tool_names():  # the routing call
            if "weather" in request.last_user_text:
                return text(f"Not something we support ({tag})")
            return tool_call("BillingAgent")
        if "billing support specialist" in request.system:
            return text(f"billing answer to: {request.last_user_text}")
        return text("wrong route")

    return respond


@pytest.fixture
def tag() -> str:
    """This test's mark in the questions and the router's own answer."""
    return unique("route")


@pytest.fixture
def stack(
    restate_server: RestateServer,
    served: Callable[[RestateServer, str], Stack],
    model_server: ScriptedModelServer,
    tag: str,
) -> Stack:
    """The patterns app on ``restate_server``, its model routing billing questions to ``BillingAgent``."""
    model_server.responder = _router_responder(tag)
    return served(restate_server, APP)


def test_agent_router_hands_the_request_to_the_chosen_local_specialist(
    stack: Stack, model_server: ScriptedModelServer, tag: str
) -> None:
    question = f"Why was I charged twice? ({tag})"
    assert stack.ingress.call("AgentRouter", "answer", {"message": question}) == f"billing answer to: {question}"
    assert [r.tool_names() for r in model_server.requests] == [["BillingAgent", "AccountAgent", "ProductAgent"], []]
    # no specialist fits: the router's own answer is returned
    assert stack.ingress.call("AgentRouter", "answer", {"message": "weather?"}) == f"Not something we support ({tag})"


def test_remote_agent_router_calls_the_specialist_service(
    restate_server: RestateServer, stack: Stack, tag: str
) -> None:
    question = f"Refund my last invoice ({tag})"
    router = stack.ingress.send("RemoteAgentRouter", "answer", {"message": question})
    answer = stack.ingress.attach(router)

    assert answer == f"billing answer to: {question}"
    routed = invocations(restate_server, "BillingAgent", "run", invoked_by=router)
    assert len(routed) == 1 and routed[0]["completion_result"] == "success"  # a real service call


@pytest.mark.parametrize("build", [agent_router_service, remote_agent_router_service, specialist_services])
def test_specialists_are_checked_when_the_service_is_built(build: Callable[[list[Specialist]], object]) -> None:
    billing = Specialist("BillingAgent", "bills", "You handle bills.")
    with pytest.raises(ValueError, match=r"specialist names must be unique, got duplicates: \['BillingAgent'\]"):
        build([billing, billing])
    with pytest.raises(ValueError, match="at least one specialist is required"):
        build([])
