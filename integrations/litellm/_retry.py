"""Who retries a failed model call: Restate inside a journaled step, tenacity everywhere else.

Inside a step, retrying in the client would hide attempts from the journal and multiply Restate's
own ``max_attempts``; so the call is made once and the error is translated
(``integrations.errors.provider_errors_as_restate``, the helper both adapters share). In a plain
script there is no journal, so tenacity retries the retryable classes only, honouring the
provider's Retry-After.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt, wait_random_exponential

from integrations._context import running_context
from integrations.errors import classify_provider_error, provider_errors_as_restate
from integrations.settings import max_attempts_outside_restate

__all__ = ["call_with_retries", "in_restate_step"]

_T = TypeVar("_T")

_MAX_RETRY_AFTER_SECONDS = 60.0
_backoff = wait_random_exponential(multiplier=0.5, max=20)


def in_restate_step() -> bool:
    """True when running under a Restate context (inside a handler or one of its ``ctx.run`` steps)."""
    return running_context() is not None


def _is_retryable(exc: BaseException) -> bool:
    verdict = classify_provider_error(exc)
    return verdict is not None and not verdict.terminal


def _wait(state: RetryCallState) -> float:
    """The provider's Retry-After when given (capped), else jittered exponential backoff."""
    exc = state.outcome.exception() if state.outcome else None
    verdict = classify_provider_error(exc) if exc is not None else None
    if verdict is not None and verdict.retry_after is not None:
        return min(verdict.retry_after.total_seconds(), _MAX_RETRY_AFTER_SECONDS)
    return _backoff(state)


async def call_with_retries(call: Callable[[], Awaitable[_T]], *, max_attempts: int | None) -> _T:
    """Run ``call`` once under Restate (errors translated), or with bounded tenacity retries outside."""
    if in_restate_step():
        with provider_errors_as_restate():
            return await call()
    retrying = AsyncRetrying(
        retry=retry_if_exception(_is_retryable),
        wait=_wait,
        stop=stop_after_attempt(max(1, max_attempts if max_attempts is not None else max_attempts_outside_restate())),
        reraise=True,
    )
    async for attempt in retrying:
        with attempt:
            return await call()
    raise AssertionError("unreachable: tenacity either returns or reraises")
