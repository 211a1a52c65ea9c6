"""Google ADK agents on Restate (integrations.google_adk) against a real restate-server and the
scripted model server: model calls and tools journaled, errors, approvals, sessions, multi-agent."""

from __future__ import annotations

import json
import shlex
import subprocess
import threading
import uuid

import pytest

from integrations.runtime import IngressError, wait_until
from integrations.testing import ModelRequest, Reply, error, hang, text, tool_call, tool_calls

from .conftest import AdkRig


def key() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


def ask(rig: AdkRig, message: str, *, session: str | None = None, **options: object) -> str:
    answer = rig.stack.ingress.call("AdkChat", "message", {"message": message, **options}, key=session or key())
    assert isinstance(answer, str)
    return answer


def test_model_and_tool_calls_are_journaled_and_a_flaky_tool_is_retried_without_a_new_model_call(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("get_weather", {"city": "Flaky Detroit"}), text("Sunny in Detroit"))
    assert ask(rig, "What is the weather in Detroit?") == "Sunny in Detroit"
    assert rig.effects.count("weather:Flaky Detroit") == 2  # the connection error was retried in its step...
    assert rig.effects.count("weathered:Flaky Detroit") == 1
    assert len(rig.model.requests) == 2  # ...and the journaled model answer was not requested again
    assert "21.5" in rig.model.requests[1].tool_outputs()[0]


def test_kill_mid_tool_then_restart_completes_without_paying_the_model_again(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("get_weather", {"city": "Slow Paris"}), text("Paris is sunny"))
    invocation = rig.stack.ingress.send("AdkChat", "message", {"message": "Weather in Paris?"}, key=key())
    rig.effects.wait_for("weather:Slow Paris")
    rig.stack.kill_service()
    rig.stack.start_service()
    rig.effects.wait_for_count("weather:Slow Paris", 2)  # the unfinished tool step runs again after the crash
    rig.effects.open_gate("Slow Paris")
    assert rig.stack.ingress.attach(invocation) == "Paris is sunny"
    assert len(rig.model.requests) == 2
    assert rig.effects.count("weathered:Slow Paris") == 1


def test_parallel_tool_calls_run_concurrently_and_each_body_runs_once(rig: AdkRig) -> None:
    rig.model.enqueue(
        tool_calls(("get_weather", {"city": "Slow Rome"}), ("get_weather", {"city": "Oslo"})), text("Both fine")
    )
    invocation = rig.stack.ingress.send("AdkChat", "message", {"message": "Rome and Oslo?"}, key=key())
    rig.effects.wait_for("weather:Slow Rome")
    rig.effects.wait_for("weathered:Oslo")  # Oslo ran while Rome's tool was still blocked: concurrent
    rig.effects.open_gate("Slow Rome")
    assert rig.stack.ingress.attach(invocation) == "Both fine"
    outputs = rig.model.requests[1].tool_outputs()
    assert len(outputs) == 2 and "Slow Rome" in outputs[0] and "Oslo" in outputs[1]  # the model's order
    assert rig.effects.count("weathered:Slow Rome") == 1 and rig.effects.count("weathered:Oslo") == 1


def test_a_tool_with_its_own_steps_is_not_journaled_whole(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("book_trip", {"city": "Lima"}), text("Booked"))
    assert ask(rig, "Book Lima") == "Booked"
    assert rig.effects.count("book:flight:Lima") == 1 and rig.effects.count("book:hotel:Lima") == 1
    assert "flight-Lima+hotel-Lima" in rig.model.requests[1].tool_outputs()[0]


def test_a_tool_waiting_for_a_person_does_not_hold_up_its_siblings_steps(rig: AdkRig) -> None:
    """One call of a parallel turn waits on an awakeable; the sibling's two steps complete meanwhile,
    as they would in plain ADK, instead of waiting for the person."""
    rig.model.enqueue(
        tool_calls(("await_signal", {"topic": "go"}), ("book_trip", {"city": "Quito"})), text("Booked, signalled")
    )
    invocation = rig.stack.ingress.send("AdkChat", "message", {"message": "Signal and book"}, key=key())
    rig.effects.wait_for("booked:Quito")  # the sibling has both steps' results while the awakeable is unresolved
    [awakeable] = [line.rsplit(":", 1)[1] for line in rig.effects.lines() if line.startswith("awakeable:go:")]
    rig.stack.ingress.resolve_awakeable(awakeable, "signalled")
    assert rig.stack.ingress.attach(invocation) == "Booked, signalled"
    outputs = rig.model.requests[1].tool_outputs()
    assert "signalled" in outputs[0] and "flight-Quito+hotel-Quito" in outputs[1]  # the model's order
    assert rig.effects.count("book:flight:Quito") == 1 and rig.effects.count("book:hotel:Quito") == 1


def test_terminal_error_in_a_tool_ends_the_run_and_is_not_sent_to_the_model(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("get_weather", {"city": "Doom"}), text("never"))
    with pytest.raises(IngressError) as failure:
        ask(rig, "Weather in Doom?")
    assert "unknown city Doom" in failure.value.message
    assert rig.effects.count("handler-caught-terminal:unknown city Doom") == 1
    assert len(rig.model.requests) == 1


def test_a_tool_bug_is_journaled_once_and_fails_the_run_terminally(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("get_weather", {"city": "Bug"}), text("never"))
    with pytest.raises(IngressError) as failure:
        ask(rig, "Weather in Bug?")
    assert "ValueError: the weather API returned nonsense" in failure.value.message
    assert rig.effects.count("weather:Bug") == 1  # journaled, not retried: a retry would fail the same way


def test_provider_auth_error_fails_at_once_naming_the_step(rig: AdkRig) -> None:
    rig.model.enqueue(error(401, "bad key"))
    with pytest.raises(IngressError) as failure:
        ask(rig, "hi")
    assert "LLM call: openai/gpt-test" in failure.value.message and "authentication" in failure.value.message
    assert len(rig.model.requests) == 1


def test_provider_rate_limit_is_retried_by_restate(rig: AdkRig) -> None:
    rig.model.enqueue(error(429, "slow down", headers={"retry-after-ms": "10"}), text("fine"))
    assert ask(rig, "hi") == "fine"
    assert len(rig.model.requests) == 2


def test_provider_server_errors_are_retried_then_the_answer_is_journaled(rig: AdkRig) -> None:
    rig.model.enqueue(error(503, "overloaded"), error(500, "oops"), text("fine after all"))
    assert ask(rig, "hi") == "fine after all"
    assert len(rig.model.requests) == 3  # two failed attempts of the one step, then its answer


def test_provider_server_errors_past_the_step_retry_fail_the_run_naming_the_step(rig: AdkRig) -> None:
    rig.model.enqueue(error(503, "down"), error(503, "down"), error(503, "down"), text("never"))
    with pytest.raises(IngressError) as failure:
        ask(rig, "hi")
    assert "LLM call: openai/gpt-test" in failure.value.message
    assert len(rig.model.requests) == 3  # StepRetry(max_attempts=3): not retried forever


def test_token_budget_stops_the_run_after_the_call_that_crossed_it(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("get_weather", {"city": "Oslo"}), text("never"))  # 15 tokens each: 30 > 20
    with pytest.raises(IngressError) as failure:
        ask(rig, "Weather in Oslo?", app="budget")
    assert "token budget" in failure.value.message
    assert len(rig.model.requests) == 2


def test_streaming_mode_journals_the_complete_response(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("get_weather", {"city": "Kyiv"}), text("Streamed answer"))
    assert ask(rig, "Weather in Kyiv?", stream=True) == "Streamed answer"
    assert rig.model.requests[0].body.get("stream") is True
    assert rig.effects.count("weathered:Kyiv") == 1


def _printed(rig: AdkRig, marker: str) -> str:
    lines = [line.split(": ", 1)[1] for line in rig.service_log().splitlines() if marker in line]
    assert lines, f"no line with {marker!r} in the service log"
    return lines[-1]


def test_tool_confirmation_waits_for_the_printed_command_across_a_restart(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("transfer_money", {"amount": 4242}), text("Transferred"))
    invocation = rig.stack.ingress.send("AdkChat", "message", {"message": "send 4242"}, key=key())
    wait_until(lambda: '{"amount": 4242}' in rig.service_log(), timeout=60, what="the approval request")
    rig.stack.kill_service()
    rig.stack.start_service()
    approve = _printed(rig, "  approve: ")
    assert approve.endswith("--json 'true'")
    subprocess.run(shlex.split(approve), check=True, capture_output=True, timeout=30)
    assert rig.stack.ingress.attach(invocation) == "Transferred"
    assert rig.effects.count("transfer:4242") == 1
    assert rig.service_log().count('transfer_money({"amount": 4242}) waits') == 1  # printed once, not on replay
    assert f" {invocation}] approval: transfer_money(" in rig.service_log()  # who waits: service and invocation
    assert "transferred 4242" in rig.model.requests[1].tool_outputs()[0]


def test_rejected_confirmation_never_runs_the_tool(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("transfer_money", {"amount": 7}), text("Not transferred"))
    invocation = rig.stack.ingress.send("AdkChat", "message", {"message": "send 7"}, key=key())
    wait_until(lambda: '{"amount": 7}' in rig.service_log(), timeout=60, what="the approval request")
    reject = _printed(rig, "  reject: ")
    subprocess.run(shlex.split(reject), check=True, capture_output=True, timeout=30)
    assert rig.stack.ingress.attach(invocation) == "Not transferred"
    assert rig.effects.count("transfer:7") == 0
    assert "rejected" in rig.model.requests[1].tool_outputs()[0]


@pytest.mark.parametrize(
    ("order", "decision", "status"),
    [("A-1", {"confirmed": True, "payload": {"amount": 30}}, "refunded 30 for A-1"), ("B-2", False, "refund declined")],
)
def test_a_tool_asking_for_confirmation_itself_waits_on_an_awakeable_and_runs_again_with_the_answer(
    rig: AdkRig, order: str, decision: object, status: str
) -> None:
    """Plain ADK ends the invocation at ``tool_context.request_confirmation()`` and runs the tool again
    when a later request brings the answer; under the plugin the same handler waits for it."""
    rig.model.enqueue(tool_call("refund", {"order": order, "amount": 50}), text("Done"))
    invocation = rig.stack.ingress.send("AdkChat", "message", {"message": f"refund {order}"}, key=key())
    asked = f'{invocation}] approval: refund({{"amount": 50, "order": "{order}"}}) - Refund 50 for {order}? waits'
    wait_until(lambda: asked in rig.service_log(), timeout=60, what="the tool's own confirmation request")
    approve = _printed(rig, f"{invocation}]   approve: ")
    awakeable = approve.split("/restate/awakeables/", 1)[1].split("/", 1)[0]
    rig.stack.ingress.resolve_awakeable(awakeable, decision)
    assert rig.stack.ingress.attach(invocation) == "Done"
    assert rig.model.requests[1].tool_outputs() == [json.dumps({"status": status})]  # the second run's answer
    assert len(rig.model.requests) == 2
    assert rig.effects.count(f"refund-called:{order}") == 2  # asked, then answered: each run once, none replayed
    assert rig.effects.count(f"refunded:{order}:30") == (1 if "refunded" in status else 0)


def test_confirmation_times_out_as_a_rejection(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("transfer_money", {"amount": 9}), text("Timed out"))
    assert ask(rig, "send 9", app="approval_timeout") == "Timed out"
    assert rig.effects.count("transfer:9") == 0


def test_session_remembers_turns_in_object_state(rig: AdkRig) -> None:
    session = key()
    rig.model.reset(lambda request: text(f"reply to {request.last_user_text}"))
    assert ask(rig, "hi, I am Alice", session=session) == "reply to hi, I am Alice"
    rig.model.enqueue(tool_call("get_weather", {"city": "Bern"}), text("Bern is sunny"))
    assert ask(rig, "weather in Bern?", session=session) == "Bern is sunny"
    second = rig.model.requests[1]
    assert second.user_texts()[:2] == ["hi, I am Alice", "weather in Bern?"]
    assert any("reply to hi, I am Alice" in str(item) for item in second.items)
    history = rig.stack.ingress.call("AdkChat", "history", key=session)
    assert [event["author"] for event in history] == ["user", "weather", "user", "weather", "weather", "weather"]
    assert len({event["id"] for event in history}) == len(history)
    assert rig.stack.ingress.call("AdkChat", "state", key=session) == {"last_city": "Bern"}


def test_sequential_pipeline_passes_output_between_agents(rig: AdkRig) -> None:
    rig.model.enqueue(text("facts about tides"), text("An essay on tides"))
    assert ask(rig, "write about tides", app="pipeline") == "facts about tides\nAn essay on tides"
    assert "facts about tides" in rig.model.requests[1].system


def test_parallel_agents_and_an_agent_used_as_a_tool(rig: AdkRig) -> None:
    rig.model.reset(lambda request: text(f"{request.system[:5]} done"))
    answer = ask(rig, "report", app="fan_out")
    assert sorted(answer.splitlines()) == ["North done", "South done"]
    rig.model.reset()
    rig.model.enqueue(tool_call("expert", {"request": "Weather in Nice?"}), tool_call("get_weather", {"city": "Nice"}))
    rig.model.enqueue(text("Nice is sunny"), text("The expert says: sunny"))
    assert ask(rig, "Ask the expert about Nice", app="boss") == "The expert says: sunny"
    assert rig.effects.count("weathered:Nice") == 1


def test_parallel_branches_overlap_and_finish_in_one_attempt(rig: AdkRig) -> None:
    """North's first model request is held until South's has arrived: with branches that ran one at
    a time, South would never ask while North waits (the hold gives up after 60 s and the test fails).
    Both branches then call a journaled tool (a tool turn inside each branch)."""
    topic = f"overlap {uuid.uuid4().hex[:6]}"
    south_asked, gave_up = threading.Event(), threading.Event()

    def give_up() -> None:
        gave_up.set()
        south_asked.set()

    watchdog = threading.Timer(60, give_up)
    watchdog.start()

    def respond(request: ModelRequest) -> Reply:
        branch = "North" if request.system.startswith("North.") else "South"
        outputs = request.tool_outputs()
        if outputs:
            return text(f"{branch}: {outputs[0]}")
        call = tool_call("get_weather", {"city": f"{branch} {topic}"})
        if branch == "South":
            south_asked.set()
            return call
        return hang(call, until=south_asked)

    rig.model.reset(respond)
    try:
        answer = ask(rig, topic, app="fan_out")
    finally:
        watchdog.cancel()
    assert not gave_up.is_set(), "South's model was not asked while North's request was held"
    weather = '{"city": "%s", "temperature": 21.5, "sky": "sunny"}'
    assert sorted(answer.splitlines()) == [f"{b}: " + weather % f"{b} {topic}" for b in ("North", "South")]
    for branch in ("North", "South"):
        assert rig.effects.count(f"weathered:{branch} {topic}") == 1
    assert len(rig.model.requests) == 4
    if not rig.stack.server.always_replay:
        # the branches' tool turns and the branch baton poll the SDK as one: a poller beside another
        # could miss its completion and stall until the server's inactivity timeout (a 2nd attempt)
        assert rig.effects.count(f"attempt:{topic}") == 1


def test_loop_agent_stops_when_a_journaled_tool_escalates(rig: AdkRig) -> None:
    rig.model.enqueue(text("draft 1"), tool_call("exit_loop"), text("never: the loop was left"))
    assert ask(rig, "draft until done", app="loop") == "draft 1"
    assert len(rig.model.requests) == 2  # exit_loop's escalation is journaled with its result and set on replay


def test_a_remote_agent_is_a_durable_service_call(rig: AdkRig) -> None:
    rig.model.enqueue(tool_call("ask_remote_expert", {"question": "Weather in Quito?"}), text("Quito: mild"))
    rig.model.enqueue(text("The remote expert says Quito is mild"))
    session = key()
    assert ask(rig, "Ask the remote expert about Quito", session=session) == "The remote expert says Quito is mild"
    assert "Quito: mild" in rig.model.requests[2].tool_outputs()[0]
    server = rig.stack.server
    parent = server.query(
        f"SELECT id FROM sys_invocation WHERE target = 'AdkChat/{session}/message' ORDER BY created_at DESC LIMIT 1"
    )
    children = server.query(f"SELECT target FROM sys_invocation WHERE invoked_by_id = '{parent[0]['id']}'")
    assert [child["target"] for child in children] == ["AdkRemote/ask"]


def test_adk_compaction_appends_a_summary_whose_model_call_is_journaled(rig: AdkRig) -> None:
    session = key()
    rig.model.reset(lambda request: text(f"reply to {request.last_user_text}"))
    ask(rig, "first", session=session, app="compacting")
    rig.model.reset(
        lambda request: text(
            "SUMMARY"
            if "first" in str(request.items[-1]) and "second" in str(request.items[-1])
            else f"reply to {request.last_user_text}"
        )
    )
    ask(rig, "second", session=session, app="compacting")
    history = rig.stack.ingress.call("AdkChat", "history", key=session)
    summaries = [event["compaction"] for event in history if event["compaction"]]
    assert len(summaries) == 1 and "SUMMARY" in str(summaries[0])
    assert len(rig.model.requests) == 2  # the second turn and the summary: each paid once
