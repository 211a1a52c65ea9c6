"""The offline model for ``./dev up patterns`` without an API key: it dispatches each request to
the offline script of the pattern that sent it.

``responder`` is loaded by file path (``patterns/offline.py:responder``) and served through
``integrations.testing.ScriptedModelServer`` when ``OPENAI_API_KEY`` is not set. The scripts live
next to their builders (each pattern module's ``PATTERN.offline_script``, found by
``pattern_modules``); each recognises its own requests by the default service's identity
(instructions, tool names, structured-output schema) and ignores the rest. A ``catch_all`` script
(the chat, which takes any plain conversation) is asked after the others.
"""

from __future__ import annotations

import json

from integrations.testing import ModelRequest, Reply
from patterns._offline import PREFIX, OfflineScript, schema_fields, text
from patterns._pattern import pattern_modules

__all__ = ["SCRIPTS", "responder"]

_PATTERNS = [module.PATTERN for module in pattern_modules()]
SCRIPTS: tuple[OfflineScript, ...] = tuple(
    p.offline_script for p in sorted(_PATTERNS, key=lambda pattern: pattern.catch_all)
)
"""Every pattern's offline script, in the order they are asked; the first reply wins."""


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
