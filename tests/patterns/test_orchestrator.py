"""Orchestrator-workers (``Orchestrator/process_text``)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text

from .conftest import APP


def test_orchestrator_plans_and_runs_workers_in_plan_order(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    plan = {
        "tasks": [
            {"task_type": "sentiment", "instruction": "rate it"},
            {"task_type": "summary", "instruction": "sum it"},
        ]
    }

    def respond(request: ModelRequest) -> Reply:
        if request.body.get("response_format"):
            return text(json.dumps(plan))
        kind = re.search(r"You are a (\w+) specialist", request.system)
        # the first task's worker answers last: the results still come back in plan order
        return text(f"{kind.group(1) if kind else '?'} done", delay=0.5 if kind and kind.group(1) == "sentiment" else 0)

    model_server.responder = respond
    stack = served(restate_server, APP)
    result = stack.ingress.call("Orchestrator", "process_text", {"message": "Great quarter."})

    assert result == {
        "results": [
            {"task_type": "sentiment", "instruction": "rate it", "result": "sentiment done"},
            {"task_type": "summary", "instruction": "sum it", "result": "summary done"},
        ]
    }
