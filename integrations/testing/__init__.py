"""Offline model doubles: a scripted OpenAI-compatible HTTP server for demos and tests."""

from ._replies import Reply, ToolCall, error, hang, text, tool_call, tool_calls
from ._request import ModelRequest
from ._server import Responder, ScriptedModelServer
from ._streaming import Pace

__all__ = [
    "ModelRequest",
    "Pace",
    "Reply",
    "Responder",
    "ScriptedModelServer",
    "ToolCall",
    "error",
    "hang",
    "text",
    "tool_call",
    "tool_calls",
]
