"""Served apps without ``OPENAI_API_KEY`` against the real restate-server: each invocation that
reaches a model fails at once with a ``TerminalError`` naming the variable, instead of Restate
retrying it forever (issue #15 item 8).

The OpenAI Agents SDK builds the OpenAI client when the run asks for a model, in handler code
before any step; LiteLLM refuses inside the step, reporting a 500. Both go through the one table
in ``integrations.errors``. The scripted model server stands in for the provider, so a request that
did go out would be seen.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from integrations.runtime import Ingress, IngressError, RestateServer, Stack
from integrations.testing import ScriptedModelServer, text
from integrations.testing.pytest_plugin import ServeFactory

from .conftest import Effects

APPS = ["tests/apps/openai_app.py:app", "tests/apps/litellm_app.py:app"]
FAST = 30.0
"""Seconds: a failure must come well within this; without the fix the invocation never ends."""
FIX = "OPENAI_API_KEY is not set: set it"


@pytest.fixture
def stack(restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer) -> Stack:
    model_server.responder = lambda request: text("a model answered although no key was set")
    return serve(restate_server, APPS, model=model_server, env={"OPENAI_API_KEY": None})


@pytest.fixture
def ingress(restate_server: RestateServer) -> Iterator[Ingress]:
    """An ingress client that gives up after :data:`FAST` seconds (an endless retry raises ReadTimeout)."""
    client = Ingress(restate_server.ingress_url, timeout=FAST)
    yield client
    client.close()


def _fails_fast(ingress: Ingress, service: str, handler: str, payload: object) -> str:
    started = time.monotonic()
    with pytest.raises(IngressError) as failure:
        ingress.call(service, handler, payload)
    assert time.monotonic() - started < FAST
    return failure.value.message


@pytest.mark.parametrize(
    ("handler", "where"),
    [
        ("run", "step 'LLM call: gpt-4o': "),  # Runner.run + DurableModelCalls: the build error, in the step
        ("parallel", "step 'LLM call: gpt-4o': "),  # DurableRunner.run
        ("litellm_name", "step 'LLM call: litellm/openai/gpt-4o-mini': "),  # LitellmModel, inside the step
    ],
)
def test_agents_sdk_run_without_openai_api_key_fails_at_once_naming_it(
    stack: Stack, ingress: Ingress, model_server: ScriptedModelServer, effects: Effects, handler: str, where: str
) -> None:
    message = _fails_fast(ingress, "agent", handler, "What is the weather in Detroit?")

    assert f"{where}model provider error (configuration), not retried: {FIX}" in message
    assert model_server.requests == []
    if handler == "run":  # the handler's own `except restate.TerminalError` saw it
        caught = [line for line in effects.lines() if line.startswith("handler-caught-terminal:")]
        assert len(caught) == 1 and FIX in caught[0]


def test_litellm_call_without_openai_api_key_fails_at_once_even_with_unlimited_attempts(
    stack: Stack, ingress: Ingress, model_server: ScriptedModelServer
) -> None:
    # max_attempts=None: RunOptions' default, Restate retries the step without end
    message = _fails_fast(ingress, "LitellmProbe", "ask", {"prompt": "hi", "max_attempts": None})

    assert f"model provider error (configuration), not retried: {FIX}" in message
    assert model_server.requests == []
