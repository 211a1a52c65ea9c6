"""Offline model doubles: a scripted OpenAI-compatible HTTP server for demos and tests."""

from ._replies import Reply, ToolCall, error, text, tool_call, tool_calls
from ._server import ModelRequest, Responder, ScriptedModelServer

__all__ = [
    "ModelRequest",
    "Reply",
    "Responder",
    "ScriptedModelServer",
    "ToolCall",
    "error",
    "text",
    "tool_call",
    "tool_calls",
]
