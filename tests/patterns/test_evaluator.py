"""Evaluator-optimizer (``EvaluatorOptimizer/improve_until_good``)."""

from __future__ import annotations

import json
from collections.abc import Callable

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text

from .conftest import APP


def test_evaluator_optimizer_improves_until_pass(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    generated: list[str] = []

    def respond(request: ModelRequest) -> Reply:
        if request.body.get("response_format"):
            if "v1" in request.last_user_text:
                return text(json.dumps({"verdict": "IMPROVE", "feedback": "handle the empty string"}))
            return text(json.dumps({"verdict": "PASS", "feedback": ""}))
        generated.append(request.last_user_text)
        return text(f"solution v{len(generated)}")

    model_server.responder = respond
    stack = served(restate_server, APP)
    result = stack.ingress.call("EvaluatorOptimizer", "improve_until_good", {"message": "Write palindrome()"})

    assert result == {"solution": "solution v2", "passed": True, "iterations": 2}
    assert "handle the empty string" in generated[1] and "solution v1" in generated[1]
