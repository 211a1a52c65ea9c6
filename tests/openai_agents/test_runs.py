"""The durable OpenAI Agents adapter against a real restate-server and the scripted model server."""

from __future__ import annotations

import uuid

import pytest

from integrations.runtime import IngressError, Stack, wait_until
from integrations.testing import ScriptedModelServer, error, text, tool_call, tool_calls

from ..conftest import Effects, app_stack

APP = "tests/apps/openai_app.py:app"


stack = app_stack(APP, every_mode=False)


def test_transient_tool_failure_replays_without_calling_the_model_again(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("get_weather", {"req": {"city": "Flaky Detroit"}}), text("Sunny in Detroit"))
    assert stack.ingress.call("agent", "run", "What is the weather in Detroit?") == "Sunny in Detroit"
    assert effects.count("fetch:Flaky Detroit") == 2  # the step was retried...
    assert len(model_server.requests) == 2  # ...but the journaled model answer was not re-requested
    assert model_server.requests[1].tool_outputs() and "21.5" in model_server.requests[1].tool_outputs()[0]


def test_kill_mid_tool_then_restart_completes_with_two_model_calls(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("get_weather", {"req": {"city": "Slow Paris"}}), text("Paris is sunny"))
    invocation = stack.ingress.send("agent", "run", "Weather in Paris?")
    effects.wait_for("fetch:Slow Paris")
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count("fetch:Slow Paris", 2)  # the unfinished step runs again after the crash
    effects.open_gate("Slow Paris")
    assert stack.ingress.attach(invocation) == "Paris is sunny"
    assert len(model_server.requests) == 2
    assert effects.count("fetched:Slow Paris") == 1


def test_terminal_error_in_tool_reaches_handler_and_is_not_sent_to_the_model(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("get_weather", {"req": {"city": "Doom"}}), text("never"))
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("agent", "run", "Weather in Doom?")
    assert "unknown city Doom" in failure.value.message
    assert effects.count("handler-caught-terminal:unknown city Doom") == 1
    assert len(model_server.requests) == 1


def test_awakeable_approval_survives_suspension_and_restart(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("request_approval", {"claim": "taxi 42 EUR"}), text("Your claim is approved"))
    invocation = stack.ingress.send("agent", "approve", "Please approve my taxi claim")
    wait_until(lambda: any(line.startswith("awakeable:") for line in effects.lines()), timeout=30, what="awakeable id")
    awakeable_id = next(line for line in effects.lines() if line.startswith("awakeable:")).split(":", 1)[1]
    stack.kill_service()
    stack.start_service()
    stack.ingress.resolve_awakeable(awakeable_id, "approved by Alice")
    assert stack.ingress.attach(invocation) == "Your claim is approved"
    assert len(model_server.requests) == 2
    assert "approved by Alice" in model_server.requests[1].tool_outputs()[0]
    assert sum(1 for line in effects.lines() if line.startswith("awakeable:")) == 1


def test_sessions_remember_turns_isolated_per_key_and_history_has_every_item(
    stack: Stack, model_server: ScriptedModelServer
) -> None:
    model_server.responder = lambda request: text(f"reply to {request.last_user_text}")
    assert (
        stack.ingress.call("Chat", "message", {"message": "hi, I am Alice"}, key="alice") == "reply to hi, I am Alice"
    )
    stack.ingress.call("Chat", "message", {"message": "what is my name?"}, key="alice")
    stack.ingress.call("Chat", "message", {"message": "I am Bob"}, key="bob")

    second_alice = model_server.requests[1]
    assert second_alice.user_texts() == ["hi, I am Alice", "what is my name?"]
    assert any("reply to hi, I am Alice" in str(item) for item in second_alice.items)
    assert model_server.requests[2].user_texts() == ["I am Bob"]

    history = stack.ingress.call("Chat", "get_history", key="alice")
    roles = [item.get("role") for item in history]
    assert roles == ["user", "assistant", "user", "assistant"]
    assert "reply to what is my name?" in str(history[-1])
    assert len(stack.ingress.call("Chat", "get_history", key="bob")) == 2


def test_openai_model_errors_are_classified(stack: Stack, model_server: ScriptedModelServer, effects: Effects) -> None:
    model_server.enqueue(error(401, "Incorrect API key provided"))
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("agent", "run", "hello")
    assert "authentication" in failure.value.message
    assert len(model_server.requests) == 1  # fails fast: neither Restate nor the client retried
    caught = [line for line in effects.lines() if line.startswith("handler-caught-terminal:")]
    assert len(caught) == 1 and "authentication" in caught[0]  # the handler's except TerminalError saw it

    model_server.reset()
    model_server.enqueue(error(500, "boom"), error(503, "busy"), text("third time lucky"))
    assert stack.ingress.call("agent", "run", "hello again") == "third time lucky"
    assert len(model_server.requests) == 3


def test_model_retries_are_capped_by_max_retries(stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.responder = lambda request: error(500, "always down")
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("agent", "run", "hello")
    assert "always down" in failure.value.message
    assert len(model_server.requests) == 3  # DurableModelCalls(ctx) default: 3 attempts


def test_un_journaled_model_instance_fails_loudly(stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.responder = lambda request: text("must not be called")
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("agent", "raw_instance", "hi")
    assert "DurableModel" in failure.value.message
    assert model_server.requests == []


def test_litellm_models_share_the_journal_and_the_classification(
    stack: Stack, model_server: ScriptedModelServer
) -> None:
    # by name through DurableModelCalls: a 429's Retry-After delays Restate's retry
    model_server.enqueue(error(429, "slow down", retry_after=1), text("lite by name"))
    assert stack.ingress.call("agent", "litellm_name", "hi") == "lite by name"
    first, second = model_server.requests
    assert [first.api, second.api] == ["chat", "chat"] and second.received_at - first.received_at >= 1.0

    # a LitellmModel instance wrapped in DurableModel: a 401 fails after one request
    model_server.reset()
    model_server.enqueue(error(401, "bad key"))
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("agent", "litellm_instance", "hi")
    assert "authentication" in failure.value.message
    assert len(model_server.requests) == 1


def test_token_budget_stops_the_run(stack: Stack, model_server: ScriptedModelServer) -> None:
    # each scripted reply costs 15 tokens: the second call crosses the budget of 20
    model_server.enqueue(tool_call("get_weather", {"req": {"city": "Lima"}}), text("Lima is warm"))
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("agent", "budgeted", "Weather in Lima?")
    assert "token budget 'weather' exceeded: 30 tokens used, limit 20" in failure.value.message
    assert len(model_server.requests) == 2


# --- determinism: the same flows under always-replay -----------------------------------------------
replay_stack = app_stack(APP, name="replay_stack")


def test_parallel_tool_calls_are_deterministic(
    replay_stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_calls(("lookup_a", {"topic": "x"}), ("lookup_b", {"topic": "y"})), text("both done"))
    assert replay_stack.ingress.call("agent", "parallel", "look both up") == "both done"
    lines = effects.lines()  # the two tools run concurrently: each step once, a's two steps in order
    assert sorted(lines) == ["a1:x", "a2:x", "b:y"]
    assert lines.index("a1:x") < lines.index("a2:x")
    outputs = model_server.requests[1].tool_outputs()
    assert outputs == ["a1:x+a2:x", "b:y"]
    assert len(model_server.requests) == 2


def test_cyclic_handoffs_terminate(replay_stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.enqueue(tool_call("transfer_to_billing"), tool_call("transfer_to_triage"), text("back at triage"))
    answer = replay_stack.ingress.call("agent", "handoffs", "billing question, then back")
    assert answer == {"output": "back at triage", "last_agent": "Triage"}
    assert [r.system for r in model_server.requests] == ["Route the user.", "Billing questions.", "Route the user."]


def test_streaming_is_journaled_and_replayed_as_events(replay_stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.enqueue(tool_call("get_weather", {"req": {"city": "Oslo"}}), text("Oslo is sunny"))
    answer = replay_stack.ingress.call("agent", "stream", "Weather in Oslo?")
    assert answer == {"output": "Oslo is sunny", "deltas": ["Oslo is sunny"]}
    assert len(model_server.requests) == 2
    assert not any(r.body.get("stream") for r in model_server.requests)  # never streamed un-journaled


def test_litellm_model_instance_is_journaled(replay_stack: Stack, model_server: ScriptedModelServer) -> None:
    model_server.enqueue(text("lite hello"))
    assert replay_stack.ingress.call("agent", "litellm_instance", "hi") == "lite hello"
    assert [r.api for r in model_server.requests] == ["chat"]


@pytest.mark.parametrize(
    ("service", "handler", "reader"), [("Chat", "message", "get_history"), ("LongChat", "say", "history")]
)
def test_sessions_under_replay(
    replay_stack: Stack, model_server: ScriptedModelServer, service: str, handler: str, reader: str
) -> None:
    model_server.responder = lambda request: text(f"#{len(request.user_texts())}")
    key = f"replay-{uuid.uuid4().hex}"
    for turn in range(3):
        assert replay_stack.ingress.call(service, handler, {"message": f"turn {turn}"}, key=key) == f"#{turn + 1}"
    history = replay_stack.ingress.call(service, reader, key=key)
    assert [item.get("role") for item in history] == ["user", "assistant"] * 3
    assert [item["content"] for item in history[::2]] == ["turn 0", "turn 1", "turn 2"]
