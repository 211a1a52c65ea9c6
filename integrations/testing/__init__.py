"""Offline model doubles: a scripted OpenAI-compatible HTTP server for demos and tests, and a
generic offline model (``offline_model``) that answers any app without a script."""

from ._offline import OFFLINE_LABEL, offline_model, sample_arguments
from ._replies import Reply, ToolCall, error, hang, text, tool_call, tool_calls
from ._request import ModelRequest
from ._server import Responder, ScriptedModelServer
from ._streaming import Pace

__all__ = [
    "OFFLINE_LABEL",
    "ModelRequest",
    "Pace",
    "Reply",
    "Responder",
    "ScriptedModelServer",
    "ToolCall",
    "error",
    "hang",
    "offline_model",
    "sample_arguments",
    "text",
    "tool_call",
    "tool_calls",
]
