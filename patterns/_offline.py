"""The vocabulary of the offline scripts: each pattern module plays its own default service with
an :data:`OfflineScript` declared next to its builder, and ``patterns/offline.py`` only asks the
scripts in turn.

A script recognises its own requests by the identity the builder puts into them (its default
instructions, its tool names, its structured-output schema) and returns ``None`` for anything
else. The replies are canned but shaped like a real model's (tool calls, structured output, text),
so the durable machinery around them runs for real. Every free-text answer starts with
:data:`PREFIX` so nobody mistakes it for a real model.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from integrations.testing import ModelRequest, Reply, text, tool_call, tool_calls

__all__ = [
    "OfflineScript",
    "PREFIX",
    "answer",
    "instructed",
    "offers",
    "schema_fields",
    "structured",
    "text",
    "tool_call",
    "tool_calls",
]

PREFIX = "[offline model]"

OfflineScript = Callable[[ModelRequest], Reply | None]
"""A pattern's stand-in model: the reply to one of its own requests, ``None`` for any other."""


def answer(content: str, *, delay: float = 0.0) -> Reply:
    """A free-text answer, marked as the offline model's."""
    return text(f"{PREFIX} {content}", delay=delay)


def structured(value: dict[str, Any]) -> Reply:
    """A structured-output answer: the JSON the requested schema asks for."""
    return text(json.dumps(value))


def instructed(request: ModelRequest, instructions: str | None) -> bool:
    """Whether ``instructions`` is (part of) the request's system prompt."""
    if not instructions:
        return False
    return instructions in request.system


def offers(request: ModelRequest, tool_name: str) -> bool:
    """Whether the request offers the model a tool called ``tool_name``."""
    return tool_name in request.tool_names()


def schema_fields(request: ModelRequest) -> set[str]:
    """The top-level fields of the requested structured output (empty when free text is asked)."""
    fmt = request.body.get("response_format")
    if not isinstance(fmt, dict):
        return set()
    schema = (fmt.get("json_schema") or {}).get("schema") or {}
    return set((schema.get("properties") or {}).keys())
