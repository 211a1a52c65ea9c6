"""The adapter pieces that need no server: tool error handling, durable tools, DurableModel guards."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import restate
from agents import RunContextWrapper
from agents.exceptions import AgentsException
from agents.tool_context import ToolContext

from integrations.openai_agents import AgentTerminalError, durable_function_tool, raise_restate_errors

WRAPPER = RunContextWrapper(context=None)


def test_terminal_error_is_reraised_as_both_terminal_and_agents_exception() -> None:
    original = restate.TerminalError("card declined", 402)
    with pytest.raises(AgentTerminalError) as raised:
        raise_restate_errors(WRAPPER, original)
    assert isinstance(raised.value, restate.TerminalError) and isinstance(raised.value, AgentsException)
    assert (raised.value.message, raised.value.status_code) == ("card declined", 402)


def test_terminal_error_wrapped_by_other_code_is_found_in_the_cause_chain() -> None:
    try:
        try:
            raise restate.TerminalError("gone", 410)
        except restate.TerminalError as inner:
            raise RuntimeError("wrapper") from inner
    except RuntimeError as outer:
        with pytest.raises(AgentTerminalError, match="gone"):
            raise_restate_errors(WRAPPER, outer)


def test_cancellation_handed_over_by_the_sdk_unwinds() -> None:
    class SdkCancelled(Exception):  # what the SDK passes for a tool's CancelledError
        def __init__(self) -> None:
            super().__init__("Tool execution cancelled.")
            self.cancelled_error = asyncio.CancelledError()

    with pytest.raises(asyncio.CancelledError):
        raise_restate_errors(WRAPPER, SdkCancelled())


def test_other_errors_go_back_to_the_model_as_text() -> None:
    message = raise_restate_errors(WRAPPER, ValueError("no such order 17"))
    assert "no such order 17" in message


async def test_durable_function_tool_defaults_to_raise_restate_errors() -> None:
    @durable_function_tool
    async def lookup(order: int) -> str:
        """Look up an order."""
        if order == 1:
            raise restate.TerminalError("order 1 is locked")
        raise ValueError(f"no such order {order}")

    assert lookup.name == "lookup" and lookup.params_json_schema["required"] == ["order"]
    context = ToolContext(context=None, tool_name="lookup", tool_call_id="call_1", tool_arguments='{"order": 2}')
    assert "no such order 2" in await lookup.on_invoke_tool(context, '{"order": 2}')
    with pytest.raises(AgentTerminalError, match="order 1 is locked"):
        await lookup.on_invoke_tool(context, '{"order": 1}')


async def test_journaled_tool_outside_restate_fails_clearly() -> None:
    @durable_function_tool(journal=True, failure_error_function=None)
    async def charge(amount: int) -> str:
        """Charge the card."""
        return f"charged {amount}"

    context = ToolContext(context=None, tool_name="charge", tool_call_id="call_2", tool_arguments='{"amount": 5}')
    with pytest.raises(Exception, match="outside a Restate handler"):
        await charge.on_invoke_tool(context, '{"amount": 5}')


async def test_durable_model_outside_restate_fails_clearly() -> None:
    from integrations.openai_agents import DurableModel
    from integrations.testing import ModelCall, ScriptedModel

    model = DurableModel(ScriptedModel())
    with pytest.raises(RuntimeError, match="outside a Restate handler"):
        await ModelCall.plain("hi").get_response(model)
    with pytest.raises(TypeError, match="already durable"):
        DurableModel(model)


async def test_durable_runner_rejects_malformed_input_terminally() -> None:
    from agents import Agent

    from integrations.openai_agents import DurableRunner

    for bad in (12, {"message": "hi"}):
        with pytest.raises(restate.TerminalError, match="string or a list of input items") as raised:
            await DurableRunner.run(Agent(name="a"), bad, context=None)  # type: ignore[arg-type]
        assert raised.value.status_code == 400


def test_exhausted_tool_failures_reach_the_model_as_such() -> None:
    from integrations.openai_agents._tool_errors import ToolStepFailed

    told = raise_restate_errors(WRAPPER, ToolStepFailed("Tool: charge", "RuntimeError('card API down')"))
    assert told == "The tool failed: Tool: charge failed and will not be retried: RuntimeError('card API down')"


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        ({"journal": False, "max_attempts": 3}, "needs journal=True"),
        ({"journal": True}, "needs max_attempts"),
        ({"journal": True, "max_attempts": 3, "failure_error_function": None}, "needs a failure_error_function"),
    ],
)
def test_tell_model_on_exhaustion_needs_attempts_that_can_run_out(options: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        durable_function_tool(on_exhausted="tell_model", **options)


def test_durable_model_calls_takes_max_retries_or_a_step_retry() -> None:
    from datetime import timedelta

    from integrations.openai_agents import DurableModelCalls, StepRetry
    from integrations.testing import ScriptedModel

    ctx = object()
    assert DurableModelCalls(ctx).retry == StepRetry(max_attempts=3)  # type: ignore[arg-type]
    assert DurableModelCalls(ctx, max_retries=5).retry.max_attempts == 5  # type: ignore[arg-type]
    retry = StepRetry(max_attempts=2, attempt_timeout=timedelta(seconds=20))
    provider = DurableModelCalls(ctx, retry=retry)  # type: ignore[arg-type]
    assert provider.wrap(ScriptedModel()).retry is retry  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not both"):
        DurableModelCalls(ctx, 5, retry=retry)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "step", "says"),
    [
        ("gpt-4o", "LLM call: gpt-4o", "model provider error (configuration), not retried: OPENAI_API_KEY is not set"),
        (None, "LLM call: default", "model provider error (configuration), not retried: OPENAI_API_KEY is not set"),
        (
            "nosuch/gpt-4o",
            "LLM call: nosuch/gpt-4o",
            "model provider error (configuration), not retried: the Agents SDK",
        ),
    ],
)
def test_a_model_the_provider_cannot_build_fails_terminally_in_its_step(
    monkeypatch: pytest.MonkeyPatch, name: str | None, step: str, says: str
) -> None:
    """The SDK asks for the model in handler code, before any step. Raised there, a configuration
    error would leave Restate retrying forever; it is raised inside the model step instead, where the
    error table makes it terminal (and a replay whose call is journaled never needs the model)."""
    from integrations.errors import provider_errors_as_restate
    from integrations.openai_agents import DurableModelCalls
    from integrations.openai_agents._unbuilt import UnbuiltModel
    from integrations.testing import ModelCall

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    model = DurableModelCalls(object()).get_model(name)  # type: ignore[arg-type]
    unbuilt = model.model  # type: ignore[attr-defined]
    assert isinstance(unbuilt, UnbuiltModel)

    async def call() -> None:
        with provider_errors_as_restate(step):
            await ModelCall.plain("hi").get_response(unbuilt)

    with pytest.raises(restate.TerminalError) as raised:
        asyncio.run(call())
    assert raised.value.message.startswith(f"step {step!r}: {says}") and "\n" not in raised.value.message
