"""``llm_call``: one chat-completion call through LiteLLM, shaped to be a journaled Restate step."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import litellm
from pydantic import BaseModel, ValidationError

from .. import settings
from .._journal import journal_sized
from ._messages import Message, normalise_messages
from ._response import FunctionCall, LLMResponse, ToolCall, Usage
from ._retry import call_with_retries, in_restate_step

__all__ = ["DEFAULT_MODEL", "MODEL_ENV_VAR", "StructuredOutputError", "default_model", "llm_call"]

MODEL_ENV_VAR = settings.LLM_MODEL.name
"""Environment variable naming the model when ``llm_call`` gets none (a LiteLLM model string)."""

DEFAULT_MODEL = settings.LLM_MODEL.default  # "openai/gpt-4o"
"""Used when neither ``model=`` nor ``$DURABLE_AGENTS_LLM_MODEL`` is set. ``openai/`` models honour
``$OPENAI_BASE_URL`` / ``$OPENAI_API_BASE``, so any OpenAI-compatible endpoint works."""

ResponseFormat = type[BaseModel] | Mapping[str, Any]
ToolChoice = Literal["auto", "none", "required"] | Mapping[str, Any]


class StructuredOutputError(ValueError):
    """The model's answer did not match ``response_format``; retried (a new sample may match)."""


def default_model() -> str:
    """``$DURABLE_AGENTS_LLM_MODEL`` if set, else :data:`DEFAULT_MODEL`; read per call so the environment can change."""
    return settings.LLM_MODEL.raw() or DEFAULT_MODEL


async def llm_call(
    messages: str | Sequence[Message],
    tools: Sequence[Mapping[str, Any]] | None = None,
    response_format: ResponseFormat | None = None,
    model: str | None = None,
    *,
    tool_choice: ToolChoice | None = None,
    parallel_tool_calls: bool | None = None,
    temperature: float | None = None,
    top_p: float | None = None,
    max_tokens: int | None = None,
    stop: str | list[str] | None = None,
    seed: int | None = None,
    reasoning_effort: Literal["minimal", "low", "medium", "high"] | None = None,
    timeout: float | None = None,
    api_base: str | None = None,
    api_key: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    max_attempts: int | None = None,
) -> LLMResponse:
    """Call the model once and return a journal-friendly :class:`LLMResponse`.

    Meant to run as a step: ``await ctx.run_typed("LLM call", llm_call, RunOptions(max_attempts=3),
    messages=messages, tools=TOOLS)``, or, for every Restate retry setting plus a per-attempt
    timeout, ``await model_step(ctx, "LLM call", llm_call, StepRetry(...), messages=messages)``.
    Inside Restate the client's own retries are off and provider errors are translated by
    ``integrations.errors`` (terminal ones fail the step at once; retryable ones are retried by
    Restate, after the provider's Retry-After). Outside Restate, retryable errors are retried up to
    ``max_attempts`` times (default ``$DURABLE_AGENTS_MAX_ATTEMPTS``, else 3, the toolkit's one default);
    inside, ``max_attempts`` is ignored: the step's options decide.

    ``messages`` is a prompt string or a list of chat messages (dicts or earlier responses).
    ``response_format`` is a pydantic class (or a raw OpenAI ``response_format`` dict); the answer is
    then validated and stored as JSON in ``response.parsed`` (``response.parsed_as(Model)``).
    """
    request: dict[str, Any] = {
        "model": model or default_model(),
        "messages": normalise_messages(messages),
    }
    if tools:
        request["tools"] = [dict(t) for t in tools]
    optional: dict[str, Any] = {
        "response_format": dict(response_format) if isinstance(response_format, Mapping) else response_format,
        "tool_choice": dict(tool_choice) if isinstance(tool_choice, Mapping) else tool_choice,
        "parallel_tool_calls": parallel_tool_calls,
        "temperature": temperature,
        "top_p": top_p,
        "max_tokens": max_tokens,
        "stop": stop,
        "seed": seed,
        "reasoning_effort": reasoning_effort,
        "timeout": timeout,
        "api_base": api_base,
        "api_key": api_key,
        "extra_headers": dict(extra_headers) if extra_headers else None,
    }
    request.update({key: value for key, value in optional.items() if value is not None})
    # Client-side retries stay off in every case: Restate (in a step) or tenacity (outside) owns them.
    request["num_retries"] = 0
    request["max_retries"] = 0

    async def once() -> LLMResponse:
        raw = await litellm.acompletion(**request)
        return journal_sized(_to_response(raw, response_format), "the step running llm_call")

    return await call_with_retries(once, max_attempts=None if in_restate_step() else max_attempts)


def _to_response(raw: Any, response_format: ResponseFormat | None) -> LLMResponse:
    choice = raw.choices[0]
    message = choice.message
    calls = [
        ToolCall(
            id=call.id,
            function=FunctionCall(name=call.function.name, arguments=call.function.arguments or "{}"),
        )
        for call in (getattr(message, "tool_calls", None) or [])
    ]
    usage = getattr(raw, "usage", None)
    refusal = getattr(message, "refusal", None)
    content = message.content
    return LLMResponse(
        content=content,
        tool_calls=calls,
        refusal=refusal,
        usage=Usage(
            prompt_tokens=getattr(usage, "prompt_tokens", 0) or 0,
            completion_tokens=getattr(usage, "completion_tokens", 0) or 0,
            total_tokens=getattr(usage, "total_tokens", 0) or 0,
        ),
        parsed=_parse(content, response_format) if response_format is not None and not refusal else None,
        model=getattr(raw, "model", None),
        finish_reason=choice.finish_reason,
    )


def _parse(content: str | None, response_format: ResponseFormat) -> Any:
    """Validate structured output; the stored form is JSON data so replay yields the same value."""
    if not content:
        raise StructuredOutputError("the model returned no content for a structured-output request")
    try:
        if isinstance(response_format, type) and issubclass(response_format, BaseModel):
            return response_format.model_validate_json(content).model_dump(mode="json")
        return json.loads(content)
    except (ValidationError, ValueError) as exc:
        raise StructuredOutputError(f"the model's answer does not match response_format: {exc}") from exc
