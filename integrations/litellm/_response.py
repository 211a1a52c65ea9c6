"""The journaled result of one model call.

One pydantic class serves two purposes, so it keeps two shapes:

* ``response.model_dump()`` (Python mode) is the assistant *chat message* — ``role``, ``content``,
  ``tool_calls`` only when there are some — ready to append to ``messages`` for the next call.
  Providers reject unknown keys in messages, so the bookkeeping fields are left out.
* ``response.model_dump_json()`` (what Restate's default serde journals) is the full *record*,
  including ``usage`` and ``parsed``, so a replay re-derives the same token counts and output.

Records decode leniently, because a journal outlives the code that wrote it: an invocation
suspended across an upgrade must resume, not fail its replay forever. A field this version does
not know is dropped; a field the record lacks (written by a version without it) or whose value no
longer validates gets its default. Each kind of mismatch is logged once per process as a warning.
A record that cannot be decoded even so (a required field missing) still fails.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from .._warn import warn_lenient

__all__ = ["FunctionCall", "LLMResponse", "ToolCall", "Usage"]

_T = TypeVar("_T", bound=BaseModel)

# Fields of LLMResponse that are bookkeeping, not part of a chat message.
_RECORD_ONLY = ("usage", "parsed", "model", "finish_reason")

logger = logging.getLogger(__name__)
_lenient = partial(warn_lenient, logger, "LLM response")
"""Log, once per message, that a journaled LLM response was decoded leniently."""


class _Record(BaseModel):
    """A journaled record that decodes leniently (see the module doc)."""

    @model_validator(mode="wrap")
    @classmethod
    def _decode_leniently(cls, data: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
        if not isinstance(data, dict):
            return handler(data)
        names = {field.alias or name for name, field in cls.model_fields.items()}
        unknown = sorted(set(data) - names)
        if unknown:
            warn_lenient(
                logger,
                "LLM response",
                f"{cls.__name__} fields {unknown} are not known to this version and were dropped",
            )
            data = {key: value for key, value in data.items() if key in names}
        if info.mode == "json":  # a journal record carries every field: a missing one was unknown to its writer
            missing = sorted(names - set(data))
            if missing:
                warn_lenient(
                    logger,
                    "LLM response",
                    f"{cls.__name__} record lacks fields {missing}; defaults used where there are any",
                )
        try:
            return handler(data)
        except ValidationError as exc:
            locations = [error["loc"] for error in exc.errors()]
            invalid = {str(loc[0]) for loc in locations if len(loc) == 1}
            defaulted = {key for key in invalid if key in cls.model_fields and not cls.model_fields[key].is_required()}
            if not defaulted or defaulted != invalid or any(len(loc) != 1 for loc in locations):
                raise
            warn_lenient(
                logger,
                "LLM response",
                f"{cls.__name__} fields {sorted(defaulted)} no longer validate; their defaults were used",
            )
            return handler({key: value for key, value in data.items() if key not in defaulted})


class FunctionCall(_Record):
    """The function the model wants called; ``arguments`` is the model's JSON string, unparsed."""

    name: str
    arguments: str = "{}"


class ToolCall(_Record):
    """One tool call requested by the model; answer it with ``tool_result(tool_call.id, ...)``."""

    id: str
    type: Literal["function"] = "function"
    function: FunctionCall


class Usage(_Record):
    """Tokens billed for one call (zero when the provider reports none)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class LLMResponse(_Record):
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
