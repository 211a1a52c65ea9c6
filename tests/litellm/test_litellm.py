"""``integrations.litellm`` on the real server with the scripted model server: tool routing,
provider-error treatment inside a journaled step, and the token budget.

One served app and one model server per module (reset before each test): starting and stopping a
service per test would cost more than the tests themselves.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from integrations.runtime import IngressError, RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, error, text, tool_calls

from .._served import ServedPerServer
from ..conftest import Effects

APP = "tests/apps/litellm_app.py:app"


@pytest.fixture(autouse=True)
def _fresh_model(model: ScriptedModelServer) -> None:
    model.reset()
    model.responder = lambda request: text(f"echo: {request.last_user_text}")


@pytest.fixture(scope="module")
def stack_on(
    tmp_path_factory: pytest.TempPathFactory, model: ScriptedModelServer, module_effects: Effects
) -> Iterator[Callable[[RestateServer], Stack]]:
    """``stack_on(server)``: the app served and registered on ``server`` (started once per server)."""
    served = ServedPerServer(APP, model, tmp_path_factory.mktemp("litellm-logs"), effects_file=module_effects.path)
    yield served
    served.stop()


def _answer_from_tool_outputs(request: ModelRequest) -> Reply:
    outputs = request.tool_outputs()
    return text("final: " + " | ".join(outputs)) if outputs else text("no tools used")


def test_tool_routing_answers_with_tool_results(
    any_server: RestateServer,
    stack_on: Callable[[RestateServer], Stack],
    model: ScriptedModelServer,
    module_effects: Effects,
) -> None:
    user = f"user-{uuid.uuid4().hex[:8]}"
    model.enqueue(
        tool_calls(
            ("query_user_database", {}),
            ("create_support_ticket", {"user_id": user, "description": "API calls failing"}),
        )
    )
    model.responder = _answer_from_tool_outputs
    stack = stack_on(any_server)

    answer = stack.ingress.call("LitellmToolRouter", "route", {"user_id": user, "message": "My API calls are failing"})

    assert answer.startswith("final: ")
    assert '"plan": "enterprise"' in answer
    assert f"ticket created for {user}: API calls failing" in answer
    # Journaled: one request per LLM step, one run per tool, even when every step is replayed.
    assert len(model.requests) == 2
    assert module_effects.count(f"query_user_database:{user}") == 1
    assert module_effects.count(f"create_support_ticket:{user}") == 1

    first, second = model.requests
    assert sorted(first.tool_names()) == ["create_support_ticket", "query_user_database"]
    assert first.body["tools"][0]["function"]["parameters"] == {"type": "object", "properties": {}}
    assert len(second.tool_outputs()) == 2
    assistant = [m for m in second.items if m.get("role") == "assistant"]
    assert len(assistant) == 1
    # response.model_dump() went out as a plain chat message: no bookkeeping keys, both calls kept.
    assert set(assistant[0]) <= {"role", "content", "tool_calls"}
    call_ids = [call["id"] for call in assistant[0]["tool_calls"]]
    tool_messages = [m for m in second.items if m.get("role") == "tool"]
    assert [m["tool_call_id"] for m in tool_messages] == call_ids
    assert [m["name"] for m in tool_messages] == ["query_user_database", "create_support_ticket"]
    assert json.loads(tool_messages[0]["content"])["user_id"] == user


def _ask(stack: Stack, prompt: str, max_attempts: int = 3) -> Any:
    return stack.ingress.call("LitellmProbe", "ask", {"prompt": prompt, "max_attempts": max_attempts})


def test_authentication_error_is_terminal_after_one_request(
    restate_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    model.enqueue(error(401, "Incorrect API key provided"))
    stack = stack_on(restate_server)

    with pytest.raises(IngressError) as failure:
        _ask(stack, "hello")

    assert "authentication" in failure.value.message
    assert "Incorrect API key provided" in failure.value.message
    assert len(model.requests) == 1  # no client retries, no Restate retries


def test_context_window_exceeded_is_terminal(
    restate_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    model.enqueue(error(400, "This model's maximum context length is 128000 tokens.", code="context_length_exceeded"))
    stack = stack_on(restate_server)

    with pytest.raises(IngressError) as failure:
        _ask(stack, "a very long prompt")

    assert "context_window_exceeded" in failure.value.message
    assert len(model.requests) == 1


def test_rate_limit_retry_after_sets_the_next_attempt(
    restate_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    model.enqueue(error(429, "Rate limit reached", retry_after=2), text("after the wait"))
    stack = stack_on(restate_server)

    assert _ask(stack, "hello")["content"] == "after the wait"

    first, second = model.requests
    assert second.received_at - first.received_at >= 2.0


def test_server_errors_are_retried_until_success(
    restate_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    model.enqueue(error(500, "boom"), error(502, "bad gateway"), text("recovered"))
    stack = stack_on(restate_server)

    assert _ask(stack, "hello") == {"content": "recovered", "total_tokens": 15}

    assert len(model.requests) == 3  # no Retry-After: the step's own backoff decided the delays


def test_exhausted_attempts_become_terminal(
    restate_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    model.responder = lambda request: error(503, "overloaded, try later")
    stack = stack_on(restate_server)

    with pytest.raises(IngressError) as failure:
        _ask(stack, "hello", max_attempts=2)

    assert "503" in failure.value.message or "overloaded" in failure.value.message
    assert len(model.requests) == 2


def test_token_budget_stops_the_loop(
    any_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    model.responder = lambda request: text("more", input_tokens=10, output_tokens=5)  # 15 per call
    stack = stack_on(any_server)

    assert stack.ingress.call("LitellmBudget", "run", {"prompt": "go", "calls": 2, "max_tokens": 40}) == 30
    model.reset()

    with pytest.raises(IngressError) as failure:
        stack.ingress.call("LitellmBudget", "run", {"prompt": "go", "calls": 5, "max_tokens": 40})

    assert "token budget 'research' exceeded: 45 tokens used, limit 40" in failure.value.message
    assert len(model.requests) == 3  # the third call crossed the limit; no fourth
