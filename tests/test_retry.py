"""``integrations.retry`` without a server: StepRetry's settings, and one attempt of a model step
(the per-attempt timeout and the error translation both adapters share)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any, cast

import httpx2
import openai
import pytest
import restate
from restate.exceptions import RetryableError

from integrations.errors import ErrorKind, TransientProviderError
from integrations.litellm import LLMResponse, llm_call
from integrations.retry import StepRetry, model_step, run_attempt


def test_step_retry_maps_to_restate_run_options() -> None:
    retry = StepRetry(
        max_attempts=5,
        max_duration=timedelta(minutes=2),
        initial_retry_interval=timedelta(milliseconds=200),
        retry_interval_factor=1.5,
        max_retry_interval=timedelta(seconds=8),
        attempt_timeout=timedelta(seconds=30),
    )
    options = retry.run_options(type_hint=LLMResponse)
    assert (
        options.max_attempts,
        options.max_duration,
        options.initial_retry_interval,
        options.retry_interval_factor,
        options.max_retry_interval,
        options.type_hint,
    ) == (5, timedelta(minutes=2), timedelta(milliseconds=200), 1.5, timedelta(seconds=8), LLMResponse)
    assert StepRetry().run_options().max_attempts == 3


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"retry_interval_factor": 0.5}, "retry_interval_factor"),
        ({"attempt_timeout": timedelta(0)}, "attempt_timeout must be positive"),
        ({"attempt_timeout": 30}, "attempt_timeout must be a timedelta"),
        ({"max_retry_interval": timedelta(seconds=-1)}, "max_retry_interval"),
    ],
)
def test_step_retry_rejects_nonsense(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises((ValueError, TypeError), match=problem):
        StepRetry(**settings)


async def test_a_hung_attempt_is_cancelled_and_fails_as_retryable() -> None:
    cancelled = asyncio.Event()
    never = asyncio.Event()

    async def hung_provider() -> str:
        try:
            await never.wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "unreachable"

    with pytest.raises(TransientProviderError) as raised:
        await run_attempt(hung_provider, step="LLM call: gpt-4o", timeout=timedelta(milliseconds=50))

    assert cancelled.is_set()  # the provider call itself was cancelled, not left running
    assert raised.value.verdict.kind is ErrorKind.TIMEOUT
    assert str(raised.value) == (
        "step 'LLM call: gpt-4o': model provider error (timeout), retryable: "
        "no answer within attempt_timeout=0.05 s; attempt cancelled"
    )


async def test_the_clients_own_timeout_is_not_reported_as_the_attempt_timeout() -> None:
    async def client_times_out() -> str:
        raise openai.APITimeoutError(request=httpx2.Request("POST", "http://x/v1/responses"))

    with pytest.raises(TransientProviderError) as raised:
        await run_attempt(client_times_out, step="LLM call", timeout=timedelta(hours=1))
    assert "attempt_timeout" not in str(raised.value) and raised.value.verdict.kind is ErrorKind.TIMEOUT


async def test_an_attempt_that_answers_in_time_returns_its_value() -> None:
    async def quick() -> str:
        return "answer"

    assert await run_attempt(quick, step="LLM call", timeout=timedelta(seconds=30)) == "answer"
    assert await run_attempt(quick, step="LLM call") == "answer"


async def test_errors_inside_an_attempt_are_translated_and_name_the_step() -> None:
    def raising(exc: Exception) -> Callable[[], Any]:
        async def call() -> None:
            raise exc

        return call

    request = httpx2.Request("POST", "http://x/v1/chat/completions")
    limited = openai.RateLimitError(
        "slow down", response=httpx2.Response(429, request=request, headers={"retry-after": "2"}), body=None
    )
    with pytest.raises(RetryableError) as retry:
        await run_attempt(raising(limited), step="LLM call")
    assert retry.value.retry_after == timedelta(seconds=2) and retry.value.message.startswith("step 'LLM call': ")

    with pytest.raises(restate.TerminalError) as terminal:
        await run_attempt(
            raising(openai.AuthenticationError("bad key", response=httpx2.Response(401, request=request), body=None)),
            step="LLM call",
        )
    assert terminal.value.status_code == 401 and "authentication" in terminal.value.message

    with pytest.raises(ZeroDivisionError):  # not a provider error: unchanged, Restate's policy applies
        await run_attempt(raising(ZeroDivisionError()), step="LLM call")


class _RecordingContext:
    """Stands in for ``restate.Context``: records what ``model_step`` asks ``run_typed`` for."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Callable[[], Any], restate.RunOptions[Any]]] = []

    def run_typed(self, name: str, action: Callable[[], Any], options: restate.RunOptions[Any]) -> object:
        self.calls.append((name, action, options))
        return DURABLE_FUTURE


DURABLE_FUTURE = object()
"""What the fake ``run_typed`` returns in place of Restate's durable future."""


async def test_model_step_journals_the_action_with_its_return_type_and_the_retry_settings() -> None:
    ctx = _RecordingContext()
    retry = StepRetry(max_attempts=4, attempt_timeout=timedelta(seconds=9))

    context = cast(restate.Context, ctx)
    future = model_step(context, "LLM call", llm_call, retry, messages="hi")

    assert future is DURABLE_FUTURE  # the durable future itself: awaitable, or gathered with others
    [(name, _, options)] = ctx.calls
    assert name == "LLM call" and options.type_hint is LLMResponse and options.max_attempts == 4
    assert model_step(context, "again", llm_call, messages="hi") and ctx.calls[-1][2].max_attempts == 3
