"""Retry control for LiteLLM model steps on the real server: ``model_step(ctx, "LLM call", llm_call,
StepRetry(attempt_timeout=...))`` cuts off a hung call and retries it, and names the step when the
attempts run out."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from integrations.runtime import IngressError, RestateServer, Stack
from integrations.testing import ScriptedModelServer, hang, text

APP = "tests/apps/step_retry_app.py:app"


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture(scope="module")
def stack_on(
    tmp_path_factory: pytest.TempPathFactory, model: ScriptedModelServer
) -> Iterator[Callable[[RestateServer], Stack]]:
    """The app served on ``server``, started once per server and warmed up: the first LiteLLM call of
    a process is slow, and a hung-call test must not time out before the request was sent."""
    stacks: dict[int, Stack] = {}
    logs = tmp_path_factory.mktemp("litellm-step-retry")

    def get(server: RestateServer) -> Stack:
        if id(server) not in stacks:
            env = {**model.client_env(), "EFFECTS_FILE": str(logs / "effects.log"), "GATE_DIR": str(logs)}
            stack = Stack(server, APP, env=env, log_dir=logs / str(len(stacks))).start()
            model.reset(lambda request: text("warm"))
            assert stack.ingress.call("RetryLitellm", "ask", {"message": "warm up"}) == "warm"
            stacks[id(server)] = stack
        model.reset(lambda request: text(f"echo: {request.last_user_text}"))
        return stacks[id(server)]

    yield get
    for stack in stacks.values():
        stack.stop()


def test_a_hung_llm_call_is_cut_off_and_retried(
    any_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    stack = stack_on(any_server)
    model.enqueue(hang(), text("answered after the hang"))

    assert stack.ingress.call("RetryLitellm", "ask", {"message": "hello"}) == "answered after the hang"
    assert len(model.requests) == 2
    assert [r.api for r in model.requests] == ["chat", "chat"]


def test_an_llm_call_that_always_hangs_fails_naming_the_step(
    any_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    stack = stack_on(any_server)
    model.responder = lambda request: hang()

    with pytest.raises(IngressError) as failure:
        stack.ingress.call("RetryLitellm", "ask", {"message": "hello", "max_attempts": 2})

    assert "step 'LLM call'" in failure.value.message and "attempt_timeout=1 s" in failure.value.message
    assert len(model.requests) == 2
