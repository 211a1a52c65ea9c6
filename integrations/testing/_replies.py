"""What the scripted model answers: text, tool calls, or an HTTP error, each optionally delayed."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ._streaming import Pace


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One model answer. ``status`` >= 400 makes it an HTTP error with ``error_message``."""

    text: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    status: int = 200
    error_message: str = ""
    error_type: str | None = None
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    input_tokens: int = 10
    output_tokens: int = 5
    pace: Pace | None = None  # how it streams when the client asks for a stream (default: the server's)

    @property
    def is_error(self) -> bool:
        return self.status >= 400


def text(
    content: str, *, delay: float = 0.0, input_tokens: int = 10, output_tokens: int = 5, pace: Pace | None = None
) -> Reply:
    """A final assistant message; ``pace`` slows or holds it when streamed."""
    return Reply(text=content, delay=delay, input_tokens=input_tokens, output_tokens=output_tokens, pace=pace)


def tool_call(
    name: str, arguments: dict[str, Any] | None = None, *, call_id: str | None = None, delay: float = 0.0
) -> Reply:
    """A single function call."""
    return Reply(tool_calls=(ToolCall(name, arguments or {}, call_id),), delay=delay)


def tool_calls(*calls: ToolCall | tuple[str, dict[str, Any]], delay: float = 0.0) -> Reply:
    """Several function calls in one turn (parallel tool calls)."""
    normalised = tuple(c if isinstance(c, ToolCall) else ToolCall(c[0], c[1]) for c in calls)
    return Reply(tool_calls=normalised, delay=delay)


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
}


def error(
    status: int,
    message: str = "scripted error",
    *,
    code: str | None = None,
    retry_after: float | None = None,
    headers: dict[str, str] | None = None,
    delay: float = 0.0,
) -> Reply:
    """An HTTP error as OpenAI returns it (``{"error": {...}}``); ``retry_after`` sets the header."""
    all_headers = dict(headers or {})
    if retry_after is not None:
        all_headers["retry-after"] = f"{retry_after:g}"
    return Reply(
        status=status,
        error_message=message,
        error_type=_ERROR_TYPES.get(status, "server_error"),
        error_code=code,
        headers=all_headers,
        delay=delay,
    )


def error_body(reply: Reply) -> bytes:
    return json.dumps(
        {"error": {"message": reply.error_message, "type": reply.error_type, "code": reply.error_code, "param": None}}
    ).encode()
