"""What the scripted model answers: text, tool calls, or an HTTP error, each optionally delayed or held."""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from ._streaming import Pace

__all__ = ["Reply", "ToolCall", "error", "handoff", "hang", "structured", "text", "tool_call", "tool_calls"]


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    call_id: str | None = None


@dataclass(frozen=True)
class Reply:
    """One model answer. ``status`` >= 400 makes it an HTTP error with ``error_message``.

    ``delay`` seconds pass before it is sent; ``hold``, if set, keeps the request open until the
    event is set (or the server stops): a provider that hangs, for as long as the test wants.
    """

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
    hold: threading.Event | None = field(default=None, compare=False)
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


def handoff(agent_name: str, *, call_id: str | None = None, delay: float = 0.0) -> Reply:
    """The model hands the conversation to the agent named ``agent_name``: a call of the handoff tool
    the Agents SDK offers for it by default (``transfer_to_<agent_name in snake case>``)."""
    tool_name = "transfer_to_" + re.sub(r"[^a-zA-Z0-9]", "_", agent_name).lower()
    return tool_call(tool_name, {}, call_id=call_id, delay=delay)


def structured(value: object, *, delay: float = 0.0) -> Reply:
    """A structured final output (an agent's ``output_type``): ``value`` (a pydantic model, a
    dataclass, a dict or any JSON value) sent as the JSON text the SDK parses and validates."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(mode="json")
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return text(json.dumps(value), delay=delay)


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


def hang(then: Reply | None = None, *, until: threading.Event | None = None) -> Reply:
    """A reply that does not come: the request stays open until ``until`` is set, then ``then``
    (default: an empty text) is sent. Without ``until`` it hangs until the server stops.

    The server records the request when it arrives, so a test counts hung attempts like any other;
    a client that gave up in the meantime simply gets nothing.
    """
    return dataclasses.replace(then or text(""), hold=until if until is not None else threading.Event())
