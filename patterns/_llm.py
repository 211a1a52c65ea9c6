"""One journaled model call: every pattern goes through here so retries and replay behave alike."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import restate
from pydantic import BaseModel

from integrations.litellm import LLMResponse, llm_call
from integrations.retry import StepRetry, model_step


def llm_step(
    ctx: restate.Context,
    label: str,
    messages: str | Sequence[Any],
    *,
    model: str | None,
    tools: list[dict[str, Any]] | None = None,
    response_format: type[BaseModel] | None = None,
    retry: StepRetry | None = None,
) -> restate.RestateDurableFuture[LLMResponse]:
    """Start a model call as the journaled step ``label`` and return its durable future.

    Returning the future (not awaiting it) lets callers run several calls concurrently and wait
    with ``restate.gather``/``restate.wait_completed``. On replay the journaled response is
    returned without calling the model again. The step retries as ``retry`` says (default
    ``StepRetry()``: the toolkit's one default attempt count), like every model step of both adapters.
    """
    prompt: str | list[Any] = messages if isinstance(messages, str) else list(messages)
    return model_step(
        ctx,
        label,
        llm_call,
        retry,
        messages=prompt,
        tools=tools,
        response_format=response_format,
        model=model,
    )


def chat(system: str | None, user: str) -> list[dict[str, Any]]:
    """A system prompt (if any) followed by one user message."""
    messages: list[dict[str, Any]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": user})
    return messages


def text_of(response: LLMResponse) -> str:
    """The answer text; an empty string rather than ``None`` so handlers always return a string."""
    return response.content or ""
