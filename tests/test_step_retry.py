"""Retry control on the real server, in both adapters: a hung model call is cut off by the per-attempt
timeout and retried (the Agents SDK adapter, and LiteLLM's ``model_step(ctx, "LLM call", llm_call,
StepRetry(attempt_timeout=...))``), the attempts running out name the step, and a journaled tool tells
the model when its attempts run out. One app serves both adapters' services."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from integrations.runtime import IngressError, RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, hang, text, tool_call

from ._served import ServedPerServer
from .conftest import Effects

APP = "tests/apps/step_retry_app.py:app"


@pytest.fixture(scope="module")
def stack_on(
    tmp_path_factory: pytest.TempPathFactory, model: ScriptedModelServer, module_effects: Effects
) -> Iterator[Callable[[RestateServer], Stack]]:
    """``stack_on(server)``: the app served on ``server``, started once per server and warmed up
    (the first model call of a process may be slow; a hung-call test must not time out before sending)."""

    def warm_up(stack: Stack) -> None:
        model.reset(lambda request: text("warm"))
        for service in ("RetryAgents", "RetryLitellm"):  # each adapter's first call in the process is slow
            assert stack.ingress.call(service, "ask", {"message": "warm up"}) == "warm"

    logs = tmp_path_factory.mktemp("step-retry-logs")
    served = ServedPerServer(APP, model, logs, effects_file=module_effects.path, warm_up=warm_up)

    def get(server: RestateServer) -> Stack:
        stack = served(server)
        model.reset(lambda request: text(f"echo: {request.last_user_text}"))
        return stack

    yield get
    served.stop()


@dataclass(frozen=True)
class Adapter:
    """One adapter's service in the app, the name of its model step, and the API its model calls use."""

    service: str
    step: str
    api: str


ADAPTERS = [
    pytest.param(Adapter("RetryAgents", "LLM call: gpt-4o", "responses"), id="agents-sdk"),
    pytest.param(Adapter("RetryLitellm", "LLM call", "chat"), id="litellm-model_step"),
]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_hung_model_call_is_cut_off_and_retried(
    any_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer, adapter: Adapter
) -> None:
    stack = stack_on(any_server)
    model.enqueue(hang(), text("answered after the hang"))

    assert stack.ingress.call(adapter.service, "ask", {"message": "hello"}) == "answered after the hang"
    assert len(model.requests) == 2  # the hung attempt, then the retry that got the answer
    assert [r.api for r in model.requests] == [adapter.api, adapter.api]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_model_call_that_always_hangs_fails_naming_the_step(
    any_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer, adapter: Adapter
) -> None:
    stack = stack_on(any_server)
    model.responder = lambda request: hang()

    with pytest.raises(IngressError) as failure:
        stack.ingress.call(adapter.service, "ask", {"message": "hello", "max_attempts": 2})

    assert f"step '{adapter.step}'" in failure.value.message
    assert "attempt_timeout=1 s" in failure.value.message
    assert len(model.requests) == 2  # max_attempts, each cut off
    assert [r.api for r in model.requests] == [adapter.api, adapter.api]


# -- tools -----------------------------------------------------------------------------------------


def _stock_script(request: ModelRequest) -> Reply:
    outputs = request.tool_outputs()
    if outputs:
        return text("model saw: " + outputs[0])
    return tool_call("check_stock", {"sku": request.last_user_text})


def _step_results(server: RestateServer, invocation: str, name: str) -> list[str]:
    """The journaled result kinds ("Success" / "Failure") of every ``ctx.run`` step called ``name``."""
    rows = server.query(
        f"SELECT entry_type, name, entry_json, entry_lite_json FROM sys_journal WHERE id = '{invocation}'"
    )
    completion_ids = [
        json.loads(row["entry_json"])["Command"]["Run"]["completion_id"]
        for row in rows
        if row["entry_type"] == "Command: Run" and row["name"] == name
    ]
    results = {}
    for row in rows:
        if row["entry_type"] == "Notification: Run":
            lite = json.loads(row["entry_lite_json"])["Notification"]
            results[lite["id"]["CompletionId"]] = lite["result"]
    return [results.get(completion_id, "missing") for completion_id in completion_ids]


def test_exhausted_tool_tells_the_model_deterministically(
    any_server: RestateServer,
    stack_on: Callable[[RestateServer], Stack],
    model: ScriptedModelServer,
    module_effects: Effects,
) -> None:
    stack = stack_on(any_server)
    sku = f"sku-{uuid.uuid4().hex[:8]}"
    model.responder = _stock_script

    invocation = stack.ingress.send("RetryAgents", "stock", sku)
    result = stack.ingress.attach(invocation)

    told = model.requests[1].tool_outputs()
    assert len(model.requests) == 2 and len(told) == 1
    assert f"inventory API down for {sku}" in told[0] and "Tool: check_stock" in told[0]
    assert result["answer"] == "model saw: " + told[0]
    # The last execution (a full replay on the always-replay server) handed the SDK the same text.
    assert result["tool_outputs"] == [told[0]]
    assert module_effects.count(f"check_stock:{sku}") == 2  # max_attempts=2, never re-run on replay
    assert _step_results(any_server, invocation, "Tool: check_stock") == ["Failure"]  # one journaled failure


def test_terminal_error_raised_by_the_tool_still_ends_the_run(
    any_server: RestateServer, stack_on: Callable[[RestateServer], Stack], model: ScriptedModelServer
) -> None:
    stack = stack_on(any_server)
    model.responder = _stock_script
    sku = f"gone-{uuid.uuid4().hex[:8]}"

    with pytest.raises(IngressError) as failure:
        stack.ingress.call("RetryAgents", "stock", sku)

    assert f"sku {sku} was discontinued" in failure.value.message
    assert len(model.requests) == 1  # the model was never told
