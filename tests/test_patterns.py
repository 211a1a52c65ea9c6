"""The pattern services end to end: real restate-server, served over HTTP, scripted model."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from integrations.runtime import IngressError, RestateServer, Stack, free_port, wait_until
from integrations.testing import ModelRequest, Reply, text, tool_call, tool_calls

from patterns import ModerationInput, offline

from .conftest import REPO_ROOT

APP = "patterns.app:app"
CUSTOM = "tests/apps/patterns_custom.py:app"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tool_messages(request: ModelRequest) -> list[dict]:
    return [m for m in request.items if m.get("role") == "tool"]


def invocations(server: RestateServer, service: str, handler: str) -> list[dict]:
    return server.query(
        "SELECT id, status, invoked_by_id, completion_result, completion_failure FROM sys_invocation "
        f"WHERE target_service_name = '{service}' AND target_handler_name = '{handler}'"
    )


# -- prompt chaining -------------------------------------------------------------------------------


def test_chaining_runs_three_journaled_calls_in_order(any_server: RestateServer, serve, model_server) -> None:
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
    stack = serve(any_server, APP, model=model_server)
    report = f"Satisfaction 92, revenue +45% ({tag})"
    table = stack.ingress.call("CallChainingService", "process", {"message": report})

    assert table == f"| Metric | Value |\n| Satisfaction | 92 | ({tag})"
    prompts = [r.last_user_text for r in model_server.requests]
    assert len(prompts) == 3, prompts  # replays (always-replay mode) never call the model again
    assert prompts[0].startswith("Extract") and report in prompts[0]
    assert prompts[1].startswith("Sort") and f"Revenue growth: 45\nSatisfaction: 92 ({tag})" in prompts[1]
    assert prompts[2].startswith("Format") and f"Satisfaction: 92\nRevenue growth: 45 ({tag})" in prompts[2]


# -- routing ---------------------------------------------------------------------------------------


def test_tool_router_runs_local_tools_and_calls_the_remote_tool_service(
    restate_server: RestateServer, serve, model_server
) -> None:
    user = unique("user")

    def respond(request: ModelRequest) -> Reply:
        outputs = tool_messages(request)
        if not outputs:
            return tool_calls(("query_user_database", {}), ("fetch_service_status", {}))
        if len(outputs) == 2:
            return tool_call("create_support_ticket", {"user_id": user, "message": "quota", "priority": "high"})
        ticket = json.loads(outputs[-1]["content"])
        return text(f"Your quota is used up; I opened {ticket['ticket_id']}.")

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    router = stack.ingress.send("ToolRouter", "route", {"user_id": user, "message": "My API calls fail"})
    answer = stack.ingress.attach(router)

    assert re.fullmatch(r"Your quota is used up; I opened TICKET-\d{5}\.", answer), answer
    first, second, final = model_server.requests
    assert sorted(first.tool_names()) == ["create_support_ticket", "fetch_service_status", "query_user_database"]
    local_outputs = [json.loads(m["content"]) for m in tool_messages(second)]
    assert local_outputs[0]["user_id"] == user  # taken from the request, not from the model
    assert "degraded" in local_outputs[1]["api"]
    ticket = json.loads(tool_messages(final)[-1]["content"])
    assert ticket["user_id"] == user and ticket["priority"] == "high"
    # the remote tool was a real invocation of SupportTickets/create, made by the router
    created = [r for r in invocations(restate_server, "SupportTickets", "create") if r["invoked_by_id"] == router]
    assert len(created) == 1 and created[0]["completion_result"] == "success"


def _router_responder(tag: str):
    def respond(request: ModelRequest) -> Reply:
        if "BillingAgent" in request.tool_names():  # the routing call
            if "weather" in request.last_user_text:
                return text(f"Not something we support ({tag})")
            return tool_call("BillingAgent")
        if "billing support specialist" in request.system:
            return text(f"billing answer to: {request.last_user_text}")
        return text("wrong route")

    return respond


def test_agent_router_hands_the_request_to_the_chosen_local_specialist(
    restate_server: RestateServer, serve, model_server
) -> None:
    tag = unique("route")
    model_server.responder = _router_responder(tag)
    stack = serve(restate_server, APP, model=model_server)

    question = f"Why was I charged twice? ({tag})"
    assert stack.ingress.call("AgentRouter", "answer", {"message": question}) == f"billing answer to: {question}"
    assert [r.tool_names() for r in model_server.requests] == [["BillingAgent", "AccountAgent", "ProductAgent"], []]
    # no specialist fits: the router's own answer is returned
    assert stack.ingress.call("AgentRouter", "answer", {"message": "weather?"}) == f"Not something we support ({tag})"


def test_remote_agent_router_calls_the_specialist_service(restate_server: RestateServer, serve, model_server) -> None:
    tag = unique("remote")
    model_server.responder = _router_responder(tag)
    stack = serve(restate_server, APP, model=model_server)

    question = f"Refund my last invoice ({tag})"
    router = stack.ingress.send("RemoteAgentRouter", "answer", {"message": question})
    answer = stack.ingress.attach(router)

    assert answer == f"billing answer to: {question}"
    routed = [r for r in invocations(restate_server, "BillingAgent", "run") if r["invoked_by_id"] == router]
    assert len(routed) == 1 and routed[0]["completion_result"] == "success"  # a real service call


# -- parallelisation -------------------------------------------------------------------------------


def test_parallel_tools_runs_one_turns_calls_together_in_call_order(
    any_server: RestateServer, serve, model_server
) -> None:
    cities = ["New York", "San Francisco", "Boston"]

    def respond(request: ModelRequest) -> Reply:
        outputs = tool_messages(request)
        if not outputs:
            return tool_calls(*[("get_weather", {"city": c}) for c in cities])
        return text(" | ".join(json.loads(o["content"])["city"] for o in outputs))

    model_server.responder = respond
    stack = serve(any_server, APP, model=model_server)
    answer = stack.ingress.call("ParallelToolAgent", "run", {})

    assert answer == " | ".join(cities)
    assert len(model_server.requests) == 2
    second = model_server.requests[1]
    assistant = [m for m in second.items if m.get("role") == "assistant"][0]
    call_ids = [c["id"] for c in assistant["tool_calls"]]
    assert [m["tool_call_id"] for m in tool_messages(second)] == call_ids


def test_parallel_tool_calls_are_in_flight_at_the_same_time(
    restate_server: RestateServer, serve, model_server, effects
) -> None:
    cities = [unique("city") for _ in range(3)]

    def respond(request: ModelRequest) -> Reply:
        if not tool_messages(request):
            return tool_calls(*[("get_weather", {"city": c}) for c in cities])
        return text(",".join(o["content"] for o in tool_messages(request)))

    model_server.responder = respond
    stack = serve(restate_server, CUSTOM, model=model_server)
    invocation = stack.ingress.send("GatedParallelTools", "run", {"message": "weather?"})
    for city in cities:  # every call started while none of them could finish
        effects.wait_for(f"weather-started:{city}")
    for city in reversed(cities):  # finish in reverse: results still come back in call order
        effects.open_gate(f"weather-{city}")
    assert stack.ingress.attach(invocation) == ",".join(f"sunny in {c}" for c in cities)


def test_parallel_agents_run_concurrently(restate_server: RestateServer, serve, model_server) -> None:
    delay = 1.5

    def respond(request: ModelRequest) -> Reply:
        for name in ("sentiment", "three most important", "one sentence"):
            if name in request.system:
                return text(f"{name} result", delay=delay)
        return text("unexpected")

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    started = time.monotonic()
    result = stack.ingress.call("ParallelAgentsService", "analyze", {"message": "Great quarter."})
    elapsed = time.monotonic() - started

    assert result == {
        "sentiment": "sentiment result",
        "key_points": "three most important result",
        "summary": "one sentence result",
    }
    assert elapsed < 2 * delay, f"three {delay}s analyses took {elapsed:.1f}s: not concurrent"


# -- racing ----------------------------------------------------------------------------------------


def test_racing_returns_the_fast_answer_and_cancels_the_slow_one(
    restate_server: RestateServer, serve, model_server
) -> None:
    slow = 8.0
    tag = unique("race")

    def respond(request: ModelRequest) -> Reply:
        if "Think step by step" in request.system:
            return text(f"deep answer {tag}", delay=slow)
        return text(f"quick answer {tag}")

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    started = time.monotonic()
    parent = stack.ingress.send("RacingAgent", "run", {"message": f"How do I learn ML? {tag}"})
    result = stack.ingress.attach(parent)
    elapsed = time.monotonic() - started

    assert result == {"winner": "respond_quickly", "answer": f"quick answer {tag}"}
    assert elapsed < slow, f"the race took {elapsed:.1f}s: it waited for the slow path"

    def loser() -> dict | None:
        rows = [r for r in invocations(restate_server, "RacingAgent", "think_longer") if r["invoked_by_id"] == parent]
        return rows[0] if rows and rows[0]["status"] == "completed" else None

    wait_until(lambda: loser() is not None, timeout=slow, what="the losing invocation to end")
    ended = loser()
    assert ended is not None and ended["completion_result"] == "failure"
    assert "cancel" in (ended["completion_failure"] or "").lower(), ended
    winner = [r for r in invocations(restate_server, "RacingAgent", "respond_quickly") if r["invoked_by_id"] == parent]
    assert winner[0]["completion_result"] == "success"


# -- human in the loop -----------------------------------------------------------------------------


def _resolve_line(stack: Stack, content: str, service: str = "HumanInTheLoopService") -> str | None:
    """The awakeable id from the service log's 'resolve with curl ...' line for ``content``."""
    log = stack.services[0].log_path
    assert log is not None
    for line in Path(log).read_text(errors="replace").splitlines():
        if line.startswith(f"[{service}]") and repr(content) in line:
            match = re.search(r"curl \S+/restate/awakeables/(\S+)/resolve --json", line)
            if match:
                return match.group(1)
    return None


def test_human_review_survives_a_service_crash(restate_server: RestateServer, serve, model_server) -> None:
    content = unique("borderline post")

    def respond(request: ModelRequest) -> Reply:
        return tool_call("get_human_review") if "get_human_review" in request.tool_names() else text("?")

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server, env={"RESTATE_INGRESS_URL": restate_server.ingress_url})
    invocation = stack.ingress.send("HumanInTheLoopService", "moderate", {"message": content})
    wait_until(lambda: _resolve_line(stack, content) is not None, timeout=30, what="the review request in the log")
    awakeable = _resolve_line(stack, content)
    assert awakeable is not None
    log_text = Path(stack.services[0].log_path).read_text()
    assert f"curl {restate_server.ingress_url}/restate/awakeables/{awakeable}/resolve --json '\"approved\"'" in log_text

    stack.kill_service()  # the wait holds no process: kill -9 and come back
    stack.start_service()
    stack.ingress.resolve_awakeable(awakeable, "approved")

    assert stack.ingress.attach(invocation) == {"decision": "approved", "decided_by": "moderator"}
    assert len(model_server.requests) == 1  # the model's verdict was journaled, not asked again


def _review_id(effects, reviewer: str, content: str) -> str | None:
    prefix = f"review:{reviewer}:{content}:"
    return next((line[len(prefix) :] for line in effects.lines() if line.startswith(prefix)), None)


def test_human_review_timeout_escalates_then_falls_back(
    restate_server: RestateServer, serve, model_server, effects
) -> None:
    escalated, silent = unique("escalated"), unique("silent")
    model_server.responder = lambda r: tool_call("get_human_review")
    stack = serve(restate_server, CUSTOM, model=model_server)
    first = stack.ingress.send("ShortTimeoutReview", "moderate", {"message": escalated})
    second = stack.ingress.send("ShortTimeoutReview", "moderate", {"message": silent})

    wait_until(lambda: _review_id(effects, "escalation", escalated), timeout=20, what="the escalation")
    assert _review_id(effects, "moderator", escalated)  # the moderator was asked first
    stack.ingress.resolve_awakeable(_review_id(effects, "escalation", escalated), "approved by lead")

    assert stack.ingress.attach(first) == {"decision": "approved by lead", "decided_by": "escalation"}
    assert stack.ingress.attach(second) == {"decision": "rejected", "decided_by": "timeout"}
    assert _review_id(effects, "moderator", silent) and _review_id(effects, "escalation", silent)


# -- sessions --------------------------------------------------------------------------------------


def test_chat_keeps_memory_and_queues_concurrent_messages(restate_server: RestateServer, serve, model_server) -> None:
    def respond(request: ModelRequest) -> Reply:
        return text(f"reply to {request.last_user_text} after {len(request.items)} messages", delay=0.1)

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    session = unique("session")
    sent = [f"message {i}" for i in range(5)]
    ids = [stack.ingress.send("Chat", "message", {"message": m}, key=session) for m in sent]
    replies = [stack.ingress.attach(i) for i in ids]

    assert replies == [f"reply to {m} after {2 * i + 1} messages" for i, m in enumerate(sent)]
    history = stack.ingress.call("Chat", "history", None, key=session)
    expected = []
    for message, reply in zip(sent, replies):
        expected += [{"role": "user", "content": message}, {"role": "assistant", "content": reply}]
    assert history == expected
    rows = restate_server.query(
        f"SELECT value_utf8 FROM state WHERE service_name = 'Chat' AND service_key = '{session}' AND key = 'memory'"
    )
    assert json.loads(rows[0]["value_utf8"]) == expected


# -- sagas -----------------------------------------------------------------------------------------


def _booking_responder(request: ModelRequest) -> Reply:
    done = len(tool_messages(request))
    steps = [
        ("book_hotel", {"item": "hotel in Paris"}),
        ("book_flight", {"item": "flight BER-CDG"}),
        ("book_car", {"item": "convertible"}),
    ]
    return tool_call(*steps[done]) if done < len(steps) else text("all booked")


def _assert_rolled_back(effects, booking: str) -> None:
    lines = [line for line in effects.lines() if line.endswith(booking) or f":{booking}:" in line]
    assert lines == [
        f"book:hotel:{booking}",
        f"book:flight:{booking}",
        f"book-failed:car:{booking}",
        f"undo-started:flight:{booking}",
        f"undo:flight:{booking}:flight-reservation-{booking}",
        f"undo-started:hotel:{booking}",
        f"undo:hotel:{booking}:hotel-reservation-{booking}",
    ], lines


def test_saga_compensates_in_reverse_order_exactly_once(
    any_server: RestateServer, serve, model_server, effects
) -> None:
    booking = unique("booking")
    model_server.responder = _booking_responder
    stack = serve(any_server, CUSTOM, model=model_server)
    effects.open_gate(f"undo-flight-{booking}")

    with pytest.raises(IngressError) as failure:
        stack.ingress.call("RecordedBookingAgent", "book", {"booking_id": booking, "message": "Trip to Paris"})
    assert "No convertible available" in failure.value.message
    _assert_rolled_back(effects, booking)


def test_saga_rollback_resumes_after_a_crash_mid_compensation(
    restate_server: RestateServer, serve, model_server, effects
) -> None:
    booking = unique("booking")
    model_server.responder = _booking_responder
    stack = serve(restate_server, CUSTOM, model=model_server)
    invocation = stack.ingress.send("RecordedBookingAgent", "book", {"booking_id": booking, "message": "Paris"})
    effects.wait_for(f"undo-started:flight:{booking}")
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count(f"undo-started:flight:{booking}", 2)  # the unfinished undo is retried
    effects.open_gate(f"undo-flight-{booking}")

    with pytest.raises(IngressError) as failure:
        stack.ingress.attach(invocation)
    assert "No convertible available" in failure.value.message
    lines = [line for line in effects.lines() if line.endswith(booking) or f":{booking}:" in line]
    assert lines == [
        f"book:hotel:{booking}",
        f"book:flight:{booking}",
        f"book-failed:car:{booking}",
        f"undo-started:flight:{booking}",
        f"undo-started:flight:{booking}",
        f"undo:flight:{booking}:flight-reservation-{booking}",
        f"undo-started:hotel:{booking}",
        f"undo:hotel:{booking}:hotel-reservation-{booking}",
    ], lines
    assert len(model_server.requests) == 3  # the agent's turns were journaled, not replayed


# -- evaluator-optimizer, orchestrator-workers, manual loop ----------------------------------------


def test_evaluator_optimizer_improves_until_pass(restate_server: RestateServer, serve, model_server) -> None:
    generated: list[str] = []

    def respond(request: ModelRequest) -> Reply:
        if request.body.get("response_format"):
            if "v1" in request.last_user_text:
                return text(json.dumps({"verdict": "IMPROVE", "feedback": "handle the empty string"}))
            return text(json.dumps({"verdict": "PASS", "feedback": ""}))
        generated.append(request.last_user_text)
        return text(f"solution v{len(generated)}")

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    result = stack.ingress.call("EvaluatorOptimizer", "improve_until_good", {"message": "Write palindrome()"})

    assert result == {"solution": "solution v2", "passed": True, "iterations": 2}
    assert "handle the empty string" in generated[1] and "solution v1" in generated[1]


def test_orchestrator_plans_and_runs_workers_in_plan_order(restate_server: RestateServer, serve, model_server) -> None:
    plan = {"tasks": [{"task_type": "sentiment", "instruction": "rate it"}, {"task_type": "summary", "instruction": "sum it"}]}

    def respond(request: ModelRequest) -> Reply:
        if request.body.get("response_format"):
            return text(json.dumps(plan))
        kind = re.search(r"You are a (\w+) specialist", request.system)
        return text(f"{kind.group(1) if kind else '?'} done", delay=0.5 if kind and kind.group(1) == "sentiment" else 0)

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    result = stack.ingress.call("Orchestrator", "process_text", {"message": "Great quarter."})

    assert result == {
        "results": [
            {"task_type": "sentiment", "instruction": "rate it", "result": "sentiment done"},
            {"task_type": "summary", "instruction": "sum it", "result": "summary done"},
        ]
    }


def test_manual_loop_answers_unknown_tools_and_loops_until_done(
    restate_server: RestateServer, serve, model_server
) -> None:
    def respond(request: ModelRequest) -> Reply:
        outputs = tool_messages(request)
        if not outputs:
            return tool_calls(("get_weather", {"city": "Oslo"}), ("get_stock_price", {"ticker": "X"}))
        if len(outputs) == 2:
            return tool_call("get_weather", {"town": "Rome"})  # invalid arguments
        return text(" / ".join(o["content"] for o in outputs))

    model_server.responder = respond
    stack = serve(restate_server, APP, model=model_server)
    answer = stack.ingress.call("ManualLoopAgent", "run", {"message": "Weather in Oslo?"})

    weather, unknown, invalid = answer.split(" / ")
    assert json.loads(weather)["city"] == "Oslo"
    assert unknown == "Tool not found: get_stock_price"
    assert invalid.startswith("Invalid arguments for get_weather")
    assert "You are a helpful assistant" in model_server.requests[0].system


# -- defaults --------------------------------------------------------------------------------------

DEFAULT_HANDLERS = [
    ("CallChainingService", "process", None),
    ("ToolRouter", "route", None),
    ("SupportTickets", "create", None),
    ("AgentRouter", "answer", None),
    ("RemoteAgentRouter", "answer", None),
    ("BillingAgent", "run", None),
    ("AccountAgent", "run", None),
    ("ProductAgent", "run", None),
    ("ParallelToolAgent", "run", None),
    ("ParallelAgentsService", "analyze", None),
    ("RacingAgent", "run", None),
    ("HumanInTheLoopService", "moderate", None),
    ("HumanInTheLoopWithTimeout", "moderate", None),
    ("Chat", "message", "defaults"),
    ("BookingWithRollbackAgent", "book", None),
    ("EvaluatorOptimizer", "improve_until_good", None),
    ("Orchestrator", "process_text", None),
    ("ManualLoopAgent", "run", None),
]


def test_every_default_runs_from_empty_json_with_the_offline_model(
    restate_server: RestateServer, serve, model_server
) -> None:
    """What the UI playground sends (``{}``: every input field has a default), answered by the
    offline model that ``./dev up patterns`` uses without an API key."""
    model_server.responder = offline.responder
    stack = serve(restate_server, APP, model=model_server)
    sent = {(s, h): stack.ingress.send(s, h, {}, key=k) for s, h, k in DEFAULT_HANDLERS}
    content = ModerationInput().message
    for service in ("HumanInTheLoopService", "HumanInTheLoopWithTimeout"):
        wait_until(lambda: _resolve_line(stack, content, service), timeout=30, what=f"{service}'s review request")
        stack.ingress.resolve_awakeable(_resolve_line(stack, content, service), "approved")
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
    assert set(results[("ParallelAgentsService", "analyze")]) == {"sentiment", "key_points", "summary"}
    assert results[("RacingAgent", "run")]["answer"].startswith("[offline model]")
    for service in ("HumanInTheLoopService", "HumanInTheLoopWithTimeout"):
        assert results[(service, "moderate")] == {"decision": "approved", "decided_by": "moderator"}
    assert results[("Chat", "message")].startswith("[offline model]")
    rollback = results[("BookingWithRollbackAgent", "book")]
    assert isinstance(rollback, IngressError) and "No convertible cars available" in rollback.message
    assert results[("EvaluatorOptimizer", "improve_until_good")]["passed"] is True
    assert [r["task_type"] for r in results[("Orchestrator", "process_text")]["results"]] == [
        "sentiment",
        "key_points",
        "summary",
    ]


def test_hypercorn_cli_serves_the_app(restate_server: RestateServer, tmp_path) -> None:
    """``hypercorn patterns.app:app`` (no wrapper) serves every default service."""
    port = free_port()
    log = open(tmp_path / "hypercorn.log", "wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "hypercorn", "patterns.app:app", "--bind", f"127.0.0.1:{port}"],
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
        names = {service["name"] for service in registered["services"]}
        assert {s for s, _, _ in DEFAULT_HANDLERS} <= names
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()
