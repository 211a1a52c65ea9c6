"""Builders for the OpenAI chat shapes a hand-written agent loop needs: tools and tool results."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from ._response import LLMResponse, clean_assistant_message

__all__ = ["Message", "tool", "tool_result"]

Message = Mapping[str, Any] | BaseModel
"""A chat message: a dict in the OpenAI chat format, or an ``LLMResponse`` (or other pydantic message)."""

_EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


def tool(name: str, description: str, parameters: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAI function tool; ``parameters`` is a JSON schema (e.g. ``Model.model_json_schema()``).

    Without ``parameters`` the tool takes no arguments (an empty object schema), which every
    OpenAI-compatible provider accepts, unlike a missing ``parameters`` key on some of them.
    """
    if not name:
        raise ValueError("a tool needs a name")
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": dict(parameters) if parameters is not None else dict(_EMPTY_OBJECT_SCHEMA),
        },
    }


def tool_result(tool_call_id: str, name: str, content: Any) -> dict[str, Any]:
    """The ``role: tool`` message answering one tool call; non-string content is JSON-encoded.

    Pydantic models are dumped first, so a tool may return its typed result directly.
    """
    if isinstance(content, BaseModel):
        content = content.model_dump(mode="json")
    text = content if isinstance(content, str) else json.dumps(content, default=str)
    return {"role": "tool", "tool_call_id": tool_call_id, "name": name, "content": text}


def normalise_messages(messages: str | Sequence[Message]) -> list[dict[str, Any]]:
    """A prompt string becomes one user message; responses become assistant messages."""
    if isinstance(messages, str):
        return [{"role": "user", "content": messages}]
    result: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if isinstance(message, LLMResponse):
            result.append(message.to_message())
        elif isinstance(message, BaseModel):
            result.append(message.model_dump(exclude_none=True))
        elif isinstance(message, Mapping):
            as_dict = dict(message)
            if as_dict.get("role") == "assistant":
                as_dict = clean_assistant_message(as_dict)
            result.append(as_dict)
        else:
            raise TypeError(f"messages[{index}] is a {type(message).__name__}, expected a dict or an LLMResponse")
        if "role" not in result[-1]:
            raise ValueError(f"messages[{index}] has no 'role'")
    return result
