"""The OpenAI wire formats the scripted server answers in: Responses API, Chat Completions, errors."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from ._replies import Reply
from ._request import ModelRequest

__all__ = ["api_of", "chat_body", "error_body", "reply_error_body", "responses_body"]

NewId = Callable[[str], str]
"""Makes a fresh id with the given prefix (``resp``, ``msg``, ``call``, ...)."""


def api_of(path: str) -> str | None:
    """``"responses"`` or ``"chat"`` for a model endpoint path, ``None`` for anything else."""
    path = path.split("?")[0].rstrip("/")
    if path.endswith("/responses"):
        return "responses"
    if path.endswith("/chat/completions"):
        return "chat"
    return None


def error_body(message: str, error_type: str | None = None, code: str | None = None) -> bytes:
    """An error as OpenAI returns it: ``{"error": {"message", "type", "code", "param"}}``."""
    return json.dumps({"error": {"message": message, "type": error_type, "code": code, "param": None}}).encode()


def reply_error_body(reply: Reply) -> bytes:
    return error_body(reply.error_message, reply.error_type, reply.error_code)


def responses_body(request: ModelRequest, reply: Reply, new_id: NewId) -> bytes:
    """A completed Responses API response (``POST /v1/responses``)."""
    output: list[dict[str, Any]] = []
    if reply.text is not None:
        output.append(
            {
                "type": "message",
                "id": new_id("msg"),
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
            }
        )
    for call in reply.tool_calls:
        output.append(
            {
                "type": "function_call",
                "id": new_id("fc"),
                "call_id": call.call_id or new_id("call"),
                "name": call.name,
                "arguments": json.dumps(call.arguments),
                "status": "completed",
            }
        )
    body = {
        "id": new_id("resp"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": request.model,
        "output": output,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "usage": {
            "input_tokens": reply.input_tokens,
            "output_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens_details": {"reasoning_tokens": 0},
        },
    }
    return json.dumps(body).encode()


def chat_body(request: ModelRequest, reply: Reply, new_id: NewId) -> bytes:
    """A chat completion (``POST /v1/chat/completions``)."""
    message: dict[str, Any] = {"role": "assistant", "content": reply.text}
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.call_id or new_id("call"),
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for call in reply.tool_calls
        ]
    body = {
        "id": new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.model,
        "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}],
        "usage": {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
    }
    return json.dumps(body).encode()
