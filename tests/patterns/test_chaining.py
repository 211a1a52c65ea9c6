"""Prompt chaining (``CallChainingService/process``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text
from patterns import ChainStep, chaining_service

from .conftest import APP, unique


def test_chaining_runs_three_journaled_calls_in_order(
    any_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    tag = unique("chain")

    def respond(request: ModelRequest) -> Reply:
        prompt = request.last_user_text
        if prompt.startswith("Extract"):
            return text(f"Revenue growth: 45\nSatisfaction: 92 ({tag})")
        if prompt.startswith("Sort"):
            return text(f"Satisfaction: 92\nRevenue growth: 45 ({tag})")
        if prompt.startswith("Format"):
            return text(f"| Metric | Value |\n| Satisfaction | 92 | ({tag})")
        return text("unexpected prompt")

    model_server.responder = respond
    stack = served(any_server, APP)
    report = f"Satisfaction 92, revenue +45% ({tag})"
    table = stack.ingress.call("CallChainingService", "process", {"message": report})

    assert table == f"| Metric | Value |\n| Satisfaction | 92 | ({tag})"
    prompts = [r.last_user_text for r in model_server.requests]
    assert len(prompts) == 3, prompts  # replays (always-replay mode) never call the model again
    assert prompts[0].startswith("Extract") and report in prompts[0]
    assert prompts[1].startswith("Sort") and f"Revenue growth: 45\nSatisfaction: 92 ({tag})" in prompts[1]
    assert prompts[2].startswith("Format") and f"Satisfaction: 92\nRevenue growth: 45 ({tag})" in prompts[2]


def test_a_chain_needs_a_step() -> None:
    with pytest.raises(ValueError, match="at least one step"):
        chaining_service([])
    assert ChainStep("x", "a {input} with {braces}").render("{b}") == "a {b} with {braces}"
