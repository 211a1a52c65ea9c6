"""The default services together (``patterns.app:app``) and the offline model that plays them."""

from __future__ import annotations

import os
import pkgutil
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import patterns
from integrations.runtime import IngressError, RestateServer, Stack, free_port, wait_until
from integrations.testing import ModelRequest, ScriptedModelServer
from patterns import ModerationInput, offline
from patterns.app import DEFAULT_SERVICES

from ..conftest import REPO_ROOT
from .conftest import APP, log_size, unique, wait_for_review

DEFAULT_HANDLERS = [
    ("CallChainingService", "process"),
    ("ToolRouter", "route"),
    ("SupportTickets", "create"),
    ("AgentRouter", "answer"),
    ("RemoteAgentRouter", "answer"),
    ("BillingAgent", "run"),
    ("AccountAgent", "run"),
    ("ProductAgent", "run"),
    ("ParallelToolAgent", "run"),
    ("ParallelAgentsService", "analyze"),
    ("RacingAgent", "run"),
    ("HumanInTheLoopService", "moderate"),
    ("HumanInTheLoopWithTimeout", "moderate"),
    ("Chat", "message"),
    ("Chat", "on_message"),
    ("BookingWithRollbackAgent", "book"),
    ("EvaluatorOptimizer", "improve_until_good"),
    ("Orchestrator", "process_text"),
    ("ManualLoopAgent", "run"),
]


def test_every_default_runs_from_empty_json_with_the_offline_model(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> None:
    """What the UI playground sends (``{}``: every input field has a default), answered by the
    offline model that ``./dev up patterns`` uses without an API key."""
    model_server.responder = offline.responder
    stack = served(restate_server, APP)
    since = log_size(stack)
    session = unique("defaults")
    sent = {(s, h): stack.ingress.send(s, h, {}, key=session if s == "Chat" else None) for s, h in DEFAULT_HANDLERS}
    content = ModerationInput().message
    assert content == "Very explicit content that might violate the policy."  # the docs' payload
    for service in ("HumanInTheLoopService", "HumanInTheLoopWithTimeout"):
        stack.ingress.resolve_awakeable(wait_for_review(stack, content, service, since), "approved")
    results = {}
    for target, invocation in sent.items():
        try:
            results[target] = stack.ingress.attach(invocation)
        except IngressError as failure:
            results[target] = failure

    assert results[("CallChainingService", "process")] == (
        "| Metric | Value |\n| --- | --- |\n| Customer satisfaction | 92 |\n| Revenue | 45% |\n"
        "| Market share | 23% |\n| Customer churn | 5% |"
    )
    assert "api_quota_used_percent" in results[("ToolRouter", "route")]
    assert results[("SupportTickets", "create")]["status"] == "open"
    for router in ("AgentRouter", "RemoteAgentRouter"):
        assert results[(router, "answer")].startswith("[offline model] (You are an account security specialist)")
    assert results[("BillingAgent", "run")].startswith("[offline model] (You are a billing support specialist)")
    for agent in ("ParallelToolAgent", "ManualLoopAgent"):
        assert all(city in results[(agent, "run")] for city in ("New York", "San Francisco", "Boston"))
    analyses = results[("ParallelAgentsService", "analyze")]
    assert [a.split(")")[0] for a in analyses] == [
        "[offline model] (sentiment",
        "[offline model] (key_points",
        "[offline model] (summary",
    ]
    assert results[("RacingAgent", "run")].startswith("[offline model] (quick answer)")
    assert results[("HumanInTheLoopService", "moderate")] == "approved"
    assert results[("HumanInTheLoopWithTimeout", "moderate")] == {"decision": "approved", "decided_by": "moderator"}
    first_turn, second_turn = sorted([results[("Chat", "message")], results[("Chat", "on_message")]])
    assert first_turn.startswith("[offline model] (turn 1 of this conversation)")
    assert second_turn.startswith("[offline model] (turn 2 of this conversation)")
    rollback = results[("BookingWithRollbackAgent", "book")]
    assert isinstance(rollback, IngressError) and "No convertible cars available" in rollback.message
    assert results[("EvaluatorOptimizer", "improve_until_good")]["passed"] is True
    assert results[("EvaluatorOptimizer", "improve_until_good")]["iterations"] == 2
    assert [r["task_type"] for r in results[("Orchestrator", "process_text")]["results"]] == [
        "sentiment",
        "key_points",
        "summary",
    ]
    assert not [r for r in model_server.requests if "no script" in str(offline.responder(r).text)]


def test_every_pattern_module_brings_its_offline_script() -> None:
    modules = [m.name for m in pkgutil.iter_modules(patterns.__path__) if not m.name.startswith("_")]
    pattern_modules = sorted(set(modules) - {"app", "offline"})
    scripted = sorted(script.__module__.removeprefix("patterns.") for script in offline.SCRIPTS)
    assert scripted == pattern_modules


def test_each_declared_default_is_served_and_named_in_the_app_module() -> None:
    import patterns.app

    assert patterns.app.tool_router is patterns.app.DEFAULTS["tool_router"]
    assert len(patterns.app.remote_specialists) == len(patterns.DEFAULT_SPECIALISTS)
    assert set(patterns.app.__all__) >= set(patterns.app.DEFAULTS)
    names = [service.name for service in DEFAULT_SERVICES]
    assert len(names) == len(set(names)) and "ManualLoopAgent" in names and "ParallelToolAgent" in names
    assert offline.SCRIPTS[-1].__module__ == "patterns.chat"  # the catch-all is asked last


def test_the_offline_model_answers_an_unknown_request_generically() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "system", "content": "You are a pirate. Arr."}, {"role": "user", "content": "hi"}],
    }
    reply = offline.responder(ModelRequest(api="chat", body=body, headers={}))
    assert reply.text == "[offline model] (You are a pirate) no script for this request, answering: hi"


def test_hypercorn_cli_serves_the_app(restate_server: RestateServer, tmp_path: Path) -> None:
    """``hypercorn patterns.app:app`` (no wrapper) serves every default service."""
    port = free_port()
    with open(tmp_path / "hypercorn.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "hypercorn", APP, "--bind", f"127.0.0.1:{port}"],
            cwd=REPO_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        )
        try:

            def listening() -> bool:
                assert process.poll() is None, (tmp_path / "hypercorn.log").read_text()
                with socket.socket() as sock:
                    return sock.connect_ex(("127.0.0.1", port)) == 0

            wait_until(listening, timeout=60, what="hypercorn")
            registered = restate_server.register(f"http://127.0.0.1:{port}")
            handlers = {(s["name"], h["name"]) for s in registered["services"] for h in s["handlers"]}
            assert set(DEFAULT_HANDLERS) <= handlers
            assert ("Chat", "get_history") in handlers and ("Chat", "history") in handlers
            assert len(registered["services"]) == len(DEFAULT_SERVICES)
        finally:
            process.terminate()
            process.wait(timeout=15)
