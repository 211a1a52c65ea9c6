"""Competitive racing (``RacingAgent/run`` racing ``think_longer`` against ``respond_quickly``)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text

from .conftest import APP, invocations, status_of, unique


def test_racing_returns_the_fast_answer_and_cancels_the_slow_one(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    tag = unique("race")
    release_slow = threading.Event()  # the thorough approach cannot answer until the test says so
    slow_started = threading.Event()

    def respond(request: ModelRequest) -> Reply:
        if "Think step by step" in request.system:
            slow_started.set()
            release_slow.wait(timeout=60)
            return text(f"deep answer {tag}")
        return text(f"quick answer {tag}")

    model_server.responder = respond
    stack = served(restate_server, APP)
    parent = stack.ingress.send("RacingAgent", "run", {"message": f"How do I learn ML? {tag}"})
    try:
        # the race is decided while the slow approach is still held: it did not wait for it
        wait_until(slow_started.is_set, timeout=30, what="the slow approach to call the model")
        wait_until(lambda: status_of(restate_server, parent) == "completed", timeout=30, what="the race to end")
        # as the docs' page shows: the winning answer's text
        assert stack.ingress.attach(parent) == f"quick answer {tag}"
    finally:
        release_slow.set()

    def ended(handler: str) -> list[dict[str, Any]]:
        rows = invocations(restate_server, "RacingAgent", handler, invoked_by=parent)
        return rows if rows and rows[0]["status"] == "completed" else []

    wait_until(lambda: bool(ended("think_longer")), timeout=30, what="the losing invocation to end")
    loser = ended("think_longer")[0]
    assert loser["completion_result"] == "failure"
    assert "cancel" in (loser.get("completion_failure") or "").lower(), loser
    winner = ended("respond_quickly")
    assert len(winner) == 1 and winner[0]["completion_result"] == "success"
