"""The examples run as documented, against the scripted model server."""

from __future__ import annotations

from integrations.runtime import RestateServer
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text, tool_call
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import REPO_ROOT


def test_tool_routing_example_answers_with_tool_results(restate_server: RestateServer, serve: ServeFactory) -> None:
    def support_model(request: ModelRequest) -> Reply:
        done = request.tool_outputs()
        if not done:
            return tool_call("query_user_database")
        if len(done) == 1:
            return tool_call("create_support_ticket", {"subject": "double charge", "priority": "high"})
        return text(f"Refund started. Records: {done[0]} Ticket: {done[1]}")

    with ScriptedModelServer(support_model) as model:
        stack = serve(restate_server, f"{REPO_ROOT}/examples/tool_routing.py:app", model=model)
        answer = stack.ingress.call("SupportAgent", "route", {})
    assert "[49, 49]" in answer and '"ticket_id": "T-' in answer and "double charge" in answer
    assert len(model.requests) == 3
    assistant = model.requests[1].items[-2]
    assert assistant["role"] == "assistant" and set(assistant) <= {"role", "content", "tool_calls"}


def test_chat_session_example_remembers_per_key(restate_server: RestateServer, serve: ServeFactory) -> None:
    with ScriptedModelServer(lambda r: text(f"you said {len(r.user_texts())} things")) as model:
        stack = serve(restate_server, f"{REPO_ROOT}/examples/chat_session.py:app", model=model)
        assert stack.ingress.call("Chat", "message", {"message": "hi"}, key="eve") == "you said 1 things"
        assert stack.ingress.call("Chat", "message", {}, key="eve") == "you said 2 things"
        history = stack.ingress.call("Chat", "get_history", key="eve")
    assert [item.get("role") for item in history] == ["user", "assistant", "user", "assistant"]
