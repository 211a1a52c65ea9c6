"""How a model step retries: :class:`StepRetry`, and :func:`model_step`, which runs a step with it.

A model call inside Restate is one journaled ``ctx.run`` step. Its retry settings are Restate's own
(the fields of ``restate.RunOptions``: ``max_attempts``, ``max_duration``, ``initial_retry_interval``,
``retry_interval_factor``, ``max_retry_interval``) plus ``attempt_timeout``: an attempt still
waiting for the provider after that long is cancelled and counts as a failed, retryable attempt.
Once the attempts (or ``max_duration``) run out, the step fails with ``restate.TerminalError``,
whose message names the step.

Both adapters run their model steps through here: ``DurableModel`` (OpenAI Agents SDK) and
``model_step(ctx, "LLM call", llm_call, StepRetry(...), messages=...)`` (LiteLLM).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

import restate
from restate.serde import Serde

from .errors import naming_step, provider_errors_as_restate
from .settings import DEFAULT_MAX_ATTEMPTS

__all__ = ["DEFAULT_MAX_ATTEMPTS", "AttemptTimeout", "StepRetry", "model_step", "run_attempt", "run_step"]

P = ParamSpec("P")
T = TypeVar("T")


def _seconds(value: timedelta) -> str:
    return f"{value.total_seconds():g} s"


@dataclass(frozen=True)
class StepRetry:
    """Retry settings of one model step; ``None`` leaves a setting to Restate's defaults.

    The names are ``restate.RunOptions``'s. When any interval setting is given, Restate's defaults
    for the others are 50 ms initial interval and factor 2. A provider's ``Retry-After`` takes
    precedence over the interval settings for the attempt it answers (``docs/errors.md``).

    ``attempt_timeout`` bounds each attempt: a provider call still running after it is cancelled
    and the attempt fails as retryable (``ErrorKind.TIMEOUT``). Without it an attempt may wait as
    long as the provider client's own timeout allows.
    """

    max_attempts: int | None = DEFAULT_MAX_ATTEMPTS
    """Attempts including the first; ``None``: no limit (then bound the step with ``max_duration``)."""
    max_duration: timedelta | None = None
    """Stop retrying once the step has been failing for this long."""
    initial_retry_interval: timedelta | None = None
    """Delay before the first retry."""
    retry_interval_factor: float | None = None
    """Each next delay is the previous one times this (at least 1)."""
    max_retry_interval: timedelta | None = None
    """Upper bound for the delay between attempts."""
    attempt_timeout: timedelta | None = None
    """Cancel an attempt that has not finished after this long, and retry."""

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError(f"max_attempts counts attempts and must be at least 1, got {self.max_attempts}")
        if self.retry_interval_factor is not None and self.retry_interval_factor < 1:
            raise ValueError(f"retry_interval_factor must be at least 1, got {self.retry_interval_factor}")
        for name in ("max_duration", "initial_retry_interval", "max_retry_interval", "attempt_timeout"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, timedelta):
                raise TypeError(f"{name} must be a timedelta, e.g. timedelta(seconds=30), got {value!r}")
            if value <= timedelta(0):
                raise ValueError(f"{name} must be positive, got {value}")

    def run_options(self, serde: Serde[T] | None = None, type_hint: type[T] | None = None) -> restate.RunOptions[T]:
        """These settings as the ``restate.RunOptions`` of a ``ctx.run_typed`` step.

        ``attempt_timeout`` is not a Restate setting; :func:`model_step` applies it.
        """
        options: restate.RunOptions[T] = restate.RunOptions(
            type_hint=type_hint,
            max_attempts=self.max_attempts,
            max_duration=self.max_duration,
            initial_retry_interval=self.initial_retry_interval,
            retry_interval_factor=self.retry_interval_factor,
            max_retry_interval=self.max_retry_interval,
        )
        if serde is not None:
            options.serde = serde
        return options


class AttemptTimeout(TimeoutError):
    """An attempt of a model step ran past ``StepRetry.attempt_timeout`` and was cancelled."""


async def run_attempt(call: Callable[[], Awaitable[T]], *, step: str, timeout: timedelta | None = None) -> T:
    """One attempt of the model step ``step``: ``call()``, cancelled after ``timeout``.

    Provider errors (and the timeout) are re-raised as ``integrations.errors`` maps them, with the
    step's name in the message: terminal ones as ``TerminalError``, the others as retryable.
    """
    with naming_step(step), provider_errors_as_restate(step):
        if timeout is None:
            return await call()
        try:
            async with asyncio.timeout(timeout.total_seconds()) as deadline:
                return await call()
        except TimeoutError:
            if not deadline.expired():
                raise  # the provider client's own timeout
            raise AttemptTimeout(f"no answer within attempt_timeout={_seconds(timeout)}; attempt cancelled") from None


def run_step(
    ctx: restate.Context,
    name: str,
    call: Callable[[], Awaitable[T]],
    retry: StepRetry,
    *,
    serde: Serde[T] | None = None,
    type_hint: type[T] | None = None,
) -> restate.RestateDurableFuture[T]:
    """Journal ``call()`` as the step ``name``, each attempt run by :func:`run_attempt`."""

    async def attempt() -> Any:
        return await run_attempt(call, step=name, timeout=retry.attempt_timeout)

    return ctx.run_typed(name, attempt, retry.run_options(serde=serde, type_hint=type_hint))


def model_step(
    ctx: restate.Context,
    name: str,
    action: Callable[P, Awaitable[T]],
    retry: StepRetry | None = None,
    /,
    *args: P.args,
    **kwargs: P.kwargs,
) -> restate.RestateDurableFuture[T]:
    """``ctx.run_typed(name, action, options, *args, **kwargs)`` with :class:`StepRetry` as the options.

    ``await model_step(ctx, "LLM call", llm_call, StepRetry(max_attempts=5,
    attempt_timeout=timedelta(seconds=60)), messages=messages)``: the journaled result is typed by
    ``action``'s return annotation, as with ``run_typed``; the durable future can be awaited or
    combined (``restate.gather``). Default retry: :data:`DEFAULT_MAX_ATTEMPTS` attempts.
    """
    hint = inspect.signature(action, eval_str=True).return_annotation
    type_hint = None if hint is inspect.Signature.empty else hint

    async def call() -> T:
        return await action(*args, **kwargs)

    return run_step(ctx, name, call, retry or StepRetry(), type_hint=type_hint)
