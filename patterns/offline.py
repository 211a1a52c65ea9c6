"""The offline model for ``./dev up patterns`` without an API key: it dispatches each request to
the offline script of the pattern that sent it.

``responder`` is loaded by file path (``patterns/offline.py:responder``) and served through
``integrations.testing.ScriptedModelServer`` when ``OPENAI_API_KEY`` is not set. The scripts live
next to their builders (``offline_script`` in each pattern module); each recognises its own
requests by the default service's identity (instructions, tool names, structured-output schema)
and ignores the rest. They are asked in :data:`SCRIPTS` order, which matters only for requests
without a system prompt: the chain's steps are recognised by their prompts before the chat,
which takes any other plain conversation.
"""

from __future__ import annotations

import json

from integrations.testing import ModelRequest, Reply
from patterns import (
    agent_routing,
    chaining,
    chat,
    evaluator,
    human,
    manual_loop,
    orchestrator,
    parallel,
    racing,
    saga,
    tool_routing,
)
from patterns._offline import PREFIX, OfflineScript, schema_fields, text

__all__ = ["SCRIPTS", "responder"]

SCRIPTS: tuple[OfflineScript, ...] = (
    chaining.offline_script,
    tool_routing.offline_script,
    agent_routing.offline_script,
    parallel.offline_script,
    manual_loop.offline_script,
    racing.offline_script,
    human.offline_script,
    saga.offline_script,
    evaluator.offline_script,
    orchestrator.offline_script,
    chat.offline_script,
)
"""Every pattern's offline script, asked in this order; the first reply wins."""


def responder(request: ModelRequest) -> Reply:
    """The offline model's reply to one request: the first pattern script that recognises it,
    else a generic answer (structured output gets empty fields of the requested schema)."""
    for script in SCRIPTS:
        reply = script(request)
        if reply is not None:
            return reply
    fields = schema_fields(request)
    if fields:
        return text(json.dumps(dict.fromkeys(sorted(fields), "")))
    role = request.system.split(".")[0] if request.system else "assistant"
    return text(f"{PREFIX} ({role}) no script for this request, answering: {request.last_user_text[:80]}")
