"""The journaled result of one model call.

One pydantic class serves two purposes, so it keeps two shapes:

* ``response.model_dump()`` (Python mode) is the assistant *chat message* — ``role``, ``content``,
  ``tool_calls`` only when there are some — ready to append to ``messages`` for the next call.
  Providers reject unknown keys in messages, so the bookkeeping fields are left out.
* ``response.model_dump_json()`` (what Restate's default serde journals) is the full *record*,
  including ``usage`` and ``parsed``, so a replay re-derives the same token counts and output.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, SerializationInfo, SerializerFunctionWrapHandler, model_serializer

__all__ = ["FunctionCall", "LLMResponse", "ToolCall", "Usage"]

_T = TypeVar("_T", bound=BaseModel)

# Fields of LLMResponse that are bookkeeping, not part of a chat message.
_RECORD_ONLY = ("usage", "parsed", "model", "finish_reason")


class FunctionCall(BaseModel):
    """The function the model wants called; ``arguments`` is the model's JSON string, unparsed."""

    name: str
    arguments: str = "{}"


class ToolCall(BaseModel):
    """One tool call requested by the model; answer it with ``tool_result(tool_call.id, ...)``."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Usage(BaseModel):
    """Tokens billed for one call (zero when the provider reports none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class LLMResponse(BaseModel):
    """The assistant's answer: ``content`` text and/or ``tool_calls``, plus ``usage`` and ``parsed``.

    ``parsed`` is the structured output (JSON data) when ``llm_call`` was given a
    ``response_format``; it is plain JSON so it is identical on the first run and on replay. Use
    :meth:`parsed_as` to get your pydantic class back.
    """

    role: Literal["assistant"] = "assistant"
    content: str | None = None
    tool_calls: list[ToolCall] = Field(default_factory=list)
    refusal: str | None = None
    usage: Usage = Field(default_factory=Usage)
    parsed: Any = None
    model: str | None = None
    finish_reason: str | None = None

    @model_serializer(mode="wrap")
    def _serialize(self, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if info.mode_is_json():
            return data  # the journal record: everything
        return _as_message(data)

    def to_message(self) -> dict[str, Any]:
        """The assistant chat message (same as ``model_dump()``)."""
        return self.model_dump()

    def parsed_as(self, model: type[_T]) -> _T:
        """The structured output validated as ``model`` (raises if there is none)."""
        if self.parsed is None:
            raise ValueError("this response has no structured output: pass response_format= to llm_call")
        return model.model_validate(self.parsed)


def _as_message(data: dict[str, Any]) -> dict[str, Any]:
    """Strip a dumped LLMResponse (or a message dict) down to what chat APIs accept."""
    message = {key: value for key, value in data.items() if key not in _RECORD_ONLY}
    if not message.get("tool_calls"):
        message.pop("tool_calls", None)
        if message.get("content") is None:
            message["content"] = ""  # an assistant message needs content or tool calls
    if message.get("refusal") is None:
        message.pop("refusal", None)
    return message


def clean_assistant_message(message: dict[str, Any]) -> dict[str, Any]:
    """Normalise an assistant message the caller built from a response (e.g. ``model_dump(mode="json")``)."""
    return _as_message(message)
