"""Test durable agents the way they run: scripted models and a real restate-server.

- ``ScriptedModel``: an Agents SDK ``Model`` in process that answers from a script (unit tests,
  ``Runner.run`` without a server); needs the ``openai-agents`` extra;
- ``ScriptedModelServer``: the same script behind an OpenAI-compatible HTTP server (Responses and
  Chat Completions), for apps served in their own process (both SDKs, LiteLLM included);
- the reply builders both answer from: ``text``, ``tool_call``/``tool_calls``, ``handoff``,
  ``structured``, ``error``, ``hang`` (and ``Pace`` for how a reply streams);
- ``offline_model``: answers any app without a script;
- ``ForwardingModel``/``ModelCall``: the SDK's eleven-parameter model signature, written once, for
  models that wrap a model;
- the pytest plugin (``integrations.testing.pytest_plugin``, loaded automatically): the
  ``restate_server``, ``replay_server``, ``any_server``, ``model_server`` and ``serve`` fixtures
  (``ServeFactory`` is the type of ``serve``).

See docs/testing.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._extras import load_lazily, require_extra
from ._offline import OFFLINE_LABEL, offline_model, sample_arguments
from ._replies import Reply, ToolCall, error, handoff, hang, structured, text, tool_call, tool_calls
from ._request import ModelRequest
from ._serve import ServeFactory
from ._server import Responder, ScriptedModelServer
from ._streaming import Pace

if TYPE_CHECKING:
    from ..openai_agents._forwarding import ForwardingModel, ModelCall
    from ._scripted_model import ScriptedModel, status_error

__all__ = [
    "OFFLINE_LABEL",
    "ForwardingModel",
    "ModelCall",
    "ModelRequest",
    "Pace",
    "Reply",
    "Responder",
    "ScriptedModel",
    "ScriptedModelServer",
    "ServeFactory",
    "ToolCall",
    "error",
    "handoff",
    "hang",
    "offline_model",
    "sample_arguments",
    "status_error",
    "structured",
    "text",
    "tool_call",
    "tool_calls",
]

_NEEDS_AGENTS = {
    "ForwardingModel": "..openai_agents._forwarding",
    "ModelCall": "..openai_agents._forwarding",
    "ScriptedModel": "._scripted_model",
    "status_error": "._scripted_model",
}
"""Names that need the Agents SDK: imported on first use, so the HTTP kit works on a core install."""


def __getattr__(name: str) -> Any:
    if name in _NEEDS_AGENTS:
        require_extra(f"integrations.testing.{name}", "openai-agents", extra="openai-agents")
    return load_lazily(__name__, name, _NEEDS_AGENTS)
