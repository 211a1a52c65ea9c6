"""Live event streams against a real restate-server, with the scripted model streaming slowly.

The scripted model server holds a stream mid-way until the test opens a gate, so a test can look
at a half-streamed model call, or kill the service while the provider is streaming.
"""

from __future__ import annotations

import functools
import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import Pace, ScriptedModelServer, error, text, tool_call

from ..conftest import app_stack
from ._sse import SseReader
from .streams_app import SMALL_RETENTION

APP = "tests/streams/streams_app.py:app"
ANSWER = "The fog over Oslo lifts slowly while the harbour wakes up."


stack = app_stack(APP, every_mode=False, ingress_env=True)


any_stack = app_stack(APP, name="any_stack", ingress_env=True)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def events_url(stack: Stack, topic: str, query: str = "") -> str:
    return f"http://127.0.0.1:{stack.services[0].port}/events/{quote(topic, safe='')}{query}"


def answered(server: RestateServer, topic: str) -> bool:
    """Whether the run's answer event is on ``topic``."""
    return "answer" in kinds(pull(server, topic)["events"])


def pull(
    server: RestateServer, topic: str, after: int = 0, *, limit: int = 1000, obj: str = "AgentEvents"
) -> dict[str, Any]:
    response = httpx.post(
        f"{server.ingress_url}/{obj}/{quote(topic, safe='')}/pull", json={"after": after, "limit": limit}, timeout=30
    )
    assert response.status_code == 200, response.text
    pulled: dict[str, Any] = response.json()
    return pulled


def model_steps(server: RestateServer, invocation: str) -> list[dict[str, Any]]:
    """The journal's model-call steps of ``invocation`` (one ``Command: Run`` entry each)."""
    rows = server.query(f"SELECT index, entry_type, name FROM sys_journal WHERE id = '{invocation}' ORDER BY index")
    return [r for r in rows if r["entry_type"] == "Command: Run" and str(r.get("name", "")).startswith("LLM call")]


def words(sentence: str) -> list[str]:
    parts = sentence.split(" ")
    return [p + " " for p in parts[:-1]] + [parts[-1]]


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [e["kind"] for e in events]


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [e for e in events if e["kind"] == kind]


def same_events(seen: list[dict[str, Any]], stored: list[dict[str, Any]]) -> bool:
    return [{k: v for k, v in e.items() if k != "_id"} for e in seen] == stored


# -- live: the first delta arrives while the model call runs ---------------------------------------


def test_a_subscriber_sees_the_first_delta_while_the_model_call_is_still_streaming(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("first")
    reader = SseReader(events_url(stack, topic)).start()
    model_server.enqueue(text(ANSWER, pace=Pace(hold_after=1, gate="first")))
    invocation = stack.ingress.send("StreamingAgent", "run", {"topic": topic, "message": "Weather in Oslo?"})

    reader.wait_for(lambda events: bool(of(events, "text_delta")), "the first delta over SSE")
    # The model call has not ended: the provider's stream is held after its first chunk.
    assert model_server.held("first") == 1
    assert restate_server.invocation_status(invocation) != "completed"
    assert [e["data"]["delta"] for e in of(reader.events, "text_delta")] == ["The "]

    model_server.open_gate("first")
    assert stack.ingress.attach(invocation) == ANSWER
    reader.wait_for(lambda events: bool(of(events, "answer")), "the answer event")
    reader.close()

    events = reader.events
    deltas = of(events, "text_delta")
    assert "".join(d["data"]["delta"] for d in deltas) == ANSWER
    assert [d["data"]["delta"] for d in deltas] == words(ANSWER)
    assert of(events, "answer")[0]["data"]["text"] == ANSWER
    # Every event says where it came from: invocation, step, attempt, and its place in the topic.
    assert {e["invocation_id"] for e in events} == {invocation}
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert {(d["step"], d["attempt"]) for d in deltas} == {("model 1: gpt-4o", 1)}
    assert [d["index"] for d in deltas] == list(range(len(deltas)))
    # The journal still holds one entry per model call: the complete response, not the tokens.
    assert len(model_steps(restate_server, invocation)) == 1 == len(model_server.requests)
    assert model_server.requests[0].body.get("stream") is True


# -- a crash mid-stream: reset, the retried attempt, and a reader that resumes ----------------------


def test_a_kill_mid_stream_resets_the_step_and_a_resuming_reader_sees_every_event_once(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("kill")
    first_try = "Attempt one was cut short by a crash of the service."
    model_server.enqueue(text(first_try, pace=Pace(hold_after=2, gate="kill")), text(ANSWER))
    reader = SseReader(events_url(stack, topic)).start()
    invocation = stack.ingress.send("StreamingAgent", "run", {"topic": topic, "message": "Weather in Oslo?"})
    reader.wait_for(lambda events: len(of(events, "text_delta")) == 2, "two deltas of the first attempt")

    stack.kill_service()  # SIGKILL while the provider is mid-stream
    assert reader.ended.wait(15), "the SSE connection ends with the process that served it"
    stack.start_service()
    resumed = SseReader(events_url(stack, topic), last_event_id=reader.last_seq).start()
    try:
        assert stack.ingress.attach(invocation) == ANSWER
        resumed.wait_for(lambda events: bool(of(events, "answer")), "the answer after the restart")
    finally:
        resumed.close()
        model_server.open_gate("kill")  # the dead attempt's stream: nobody listens any more

    seen = reader.events + resumed.events
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))  # every event once, no gap
    assert same_events(seen, pull(restate_server, topic)["events"])
    step = "model 1: gpt-4o"
    streamed = [e for e in seen if e["step"] == step and e["kind"] in ("text_delta", "reset")]
    assert [(e["kind"], e["attempt"]) for e in streamed] == (
        [("text_delta", 1)] * 2 + [("reset", 2)] + [("text_delta", 2)] * len(words(ANSWER))
    )
    assert "".join(e["data"]["delta"] for e in streamed[:2]) == "Attempt one "
    assert "".join(e["data"]["delta"] for e in streamed[3:]) == ANSWER
    assert [(e["kind"], e["attempt"]) for e in of(seen, "answer") + of(seen, "run_started")] == [
        ("answer", 0),
        ("run_started", 0),
    ]
    assert len(model_server.requests) == 2  # the unfinished model call ran again...
    assert len(model_steps(restate_server, invocation)) == 1  # ...and was journaled once


def test_a_provider_error_is_published_and_the_retry_starts_with_a_reset(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("retry")
    model_server.enqueue(error(503, "overloaded, try again"), text(ANSWER))
    answer = stack.ingress.call("StreamingAgent", "run", {"topic": topic, "message": "Weather in Oslo?"})
    assert answer == ANSWER
    wait_until(lambda: "answer" in kinds(pull(restate_server, topic)["events"]), timeout=30, what="the answer")

    step = [e for e in pull(restate_server, topic)["events"] if e["step"] == "model 1: gpt-4o" and e["attempt"] > 0]
    assert [(e["kind"], e["attempt"]) for e in step] == (
        [("error", 1), ("reset", 2)] + [("text_delta", 2)] * len(words(ANSWER))
    )
    assert "overloaded" in step[0]["data"]["message"] and step[0]["data"]["terminal"] is False
    assert len(model_server.requests) == 2  # Restate retried the step: the client's own retries are off


def test_a_reader_that_reconnects_after_its_last_sequence_number_misses_nothing_and_sees_nothing_twice(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("resume")
    model_server.enqueue(text(ANSWER, pace=Pace(hold_after=3, gate="resume", delay=0.01)))
    first = SseReader(events_url(stack, topic)).start()
    invocation = stack.ingress.send("StreamingAgent", "run", {"topic": topic, "message": "Weather in Oslo?"})
    first.wait_for(lambda events: len(of(events, "text_delta")) >= 3, "three deltas")
    first.close()  # the reader goes away mid-stream...
    model_server.open_gate("resume")
    assert stack.ingress.attach(invocation) == ANSWER  # ...while the run goes on and finishes

    again = SseReader(events_url(stack, topic, f"?after={first.last_seq}")).start()
    again.wait_for(lambda events: bool(of(events, "answer")), "the rest of the events")
    again.close()

    seen = first.events + again.events
    assert [e["seq"] for e in seen] == list(range(1, len(seen) + 1))
    assert same_events(seen, pull(restate_server, topic)["events"])
    assert "".join(e["data"]["delta"] for e in of(seen, "text_delta")) == ANSWER


# -- tools, both OpenAI APIs, and replays ------------------------------------------------------------


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_tool_calls_results_and_the_answer_are_published_once_even_when_every_step_replays(
    any_stack: Stack, any_server: RestateServer, model_server: ScriptedModelServer, api: str
) -> None:
    topic = unique(f"tools-{api}")
    model_server.enqueue(tool_call("get_weather", {"city": "Oslo"}, call_id="call_oslo"), text(ANSWER))
    invocation = any_stack.ingress.send("StreamingAgent", "run", {"topic": topic, "message": "Oslo?", "api": api})
    assert any_stack.ingress.attach(invocation) == ANSWER

    def published() -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = pull(any_server, topic)["events"]
        return events

    wait_until(lambda: "answer" in kinds(published()), timeout=30, what="the answer event")
    events = published()
    assert sorted(set(kinds(events))) == ["answer", "run_started", "text_delta", "tool_call", "tool_result"]
    (call,) = of(events, "tool_call")
    assert (call["data"]["name"], call["data"]["call_id"], call["step"], call["attempt"]) == (
        "get_weather",
        "call_oslo",
        "model 1: gpt-4o",
        1,
    )
    assert call["data"]["arguments"].replace(" ", "") == '{"city":"Oslo"}'
    (result,) = of(events, "tool_result")
    assert result["data"] == {"call_id": "call_oslo", "output": "Oslo: 14 degrees and fog"}
    assert (result["step"], result["attempt"]) == ("tool call_oslo", 0)
    assert [e["data"]["delta"] for e in of(events, "text_delta")] == words(ANSWER)
    assert {e["step"] for e in of(events, "text_delta")} == {"model 2: gpt-4o"}
    assert [e["data"]["text"] for e in of(events, "answer")] == [ANSWER]
    # A replay (every step, on the always-replay server) republishes nothing: one attempt, each event once.
    assert not of(events, "reset") and len(of(events, "run_started")) == 1
    assert {e["attempt"] for e in events} == {0, 1}
    assert len({(e["step"], e["attempt"], e["index"], e["kind"]) for e in events}) == len(events)
    assert len(model_steps(any_server, invocation)) == 2 == len(model_server.requests)
    assert all(r.body.get("stream") is True for r in model_server.requests)


def _shape(events: list[dict[str, Any]]) -> list[tuple[str, str, int, int, str]]:
    """What a reader learns from events, without the parts that differ per invocation."""

    def data(event: dict[str, Any]) -> str:
        return json.dumps({k: v for k, v in event["data"].items() if k != "item_id"}, sort_keys=True)  # the model's id

    return [(e["kind"], e["step"], e["attempt"], e["index"], data(e)) for e in events]


def test_durable_runner_events_publish_what_the_provider_form_publishes_and_tools_reach_the_publisher(
    any_stack: Stack, any_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    shapes = []
    for api in ("responses", "runner", "streamed"):
        topic = unique(f"form-{api}")
        model_server.enqueue(tool_call("get_weather", {"city": "Oslo"}, call_id="call_oslo"), text(ANSWER))
        ask = {"topic": topic, "message": "Oslo?", "api": api, "noted": True}
        assert any_stack.ingress.call("StreamingAgent", "run", ask) == ANSWER
        wait_until(functools.partial(answered, any_server, topic), timeout=30, what="the answer")
        shapes.append(_shape(pull(any_server, topic)["events"]))
    provider_form, runner_form, streamed_form = shapes
    assert runner_form == provider_form == streamed_form
    # The tool published on the run's own topic through current_publisher(ctx), once despite replays.
    custom = [shape for shape in runner_form if shape[0] == "custom"]
    assert custom == [("custom", "custom lookup", 0, 0, '{"data": {"city": "Oslo"}, "name": "lookup"}')]
    assert [shape[0] for shape in runner_form].index("custom") < [shape[0] for shape in runner_form].index(
        "tool_result"
    )


def test_a_needs_approval_tool_is_announced_on_the_topic_and_its_decision_says_who_and_when(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("wire")
    model_server.enqueue(tool_call("wire_money", {"amount": 100}, call_id="call_wire"), text("Wired."))
    invocation = stack.ingress.send("WireAgent", "wire", {"topic": topic, "message": "Wire 100 EUR"})
    wait_until(
        lambda: bool(of(pull(restate_server, topic)["events"], "approval")), timeout=30, what="the approval event"
    )
    (approval,) = of(pull(restate_server, topic)["events"], "approval")
    assert approval["data"]["tool"] == "wire_money" and approval["data"]["question"].startswith("wire_money(")
    awakeable = approval["data"]["awakeable_id"]
    resolved = httpx.post(
        f"{restate_server.ingress_url}/restate/awakeables/{awakeable}/resolve",
        json={"approved": True, "by": "Ada"},
        timeout=30,
    )
    assert resolved.status_code < 300, resolved.text
    assert stack.ingress.attach(invocation) == "Wired."
    wait_until(functools.partial(answered, restate_server, topic), timeout=30, what="the answer")
    (done,) = of(pull(restate_server, topic)["events"], "approval_done")
    assert (done["data"]["awakeable_id"], done["data"]["approved"], done["data"]["by"]) == (awakeable, True, "Ada")
    assert done["data"]["at"].endswith("+00:00")
    assert model_server.requests[-1].tool_outputs() == ["wired 100 EUR"]


# -- the topic object --------------------------------------------------------------------------------


def test_retention_keeps_the_newest_events_and_a_late_reader_is_told_of_the_gap(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("small")
    long_answer = " ".join(f"w{n}" for n in range(30))
    model_server.enqueue(text(long_answer))
    message = {"topic": topic, "message": "Talk a lot", "object_name": "SmallEvents"}
    assert stack.ingress.call("StreamingAgent", "run", message) == long_answer
    total = 1 + 30 + 1  # run_started, the deltas, the answer
    wait_until(lambda: pull(restate_server, topic, obj="SmallEvents")["last"] == total, timeout=30, what="all events")

    page = pull(restate_server, topic, obj="SmallEvents")
    assert (page["first"], page["last"], page["gap"]) == (total - SMALL_RETENTION + 1, total, True)
    assert [e["seq"] for e in page["events"]] == list(range(total - SMALL_RETENTION + 1, total + 1))
    assert pull(restate_server, topic, after=total - 2, obj="SmallEvents")["gap"] is False
    stored = restate_server.query(
        f"SELECT key, value_utf8 FROM state WHERE service_name = 'SmallEvents' AND service_key = '{topic}'"
    )
    segments = [r for r in stored if r["key"].startswith("seg/")]
    assert sum(r["value_utf8"].count('"seq"') for r in segments) == SMALL_RETENTION  # the bound holds in state
    assert pull(restate_server, topic)["last"] == 0  # other topic objects are separate


def test_a_superseded_attempt_is_dropped_and_a_retried_publish_is_stored_once(
    stack: Stack, restate_server: RestateServer
) -> None:
    topic = unique("direct")
    base = f"{restate_server.ingress_url}/AgentEvents/{topic}"
    start = {"invocation_id": "inv_test", "step": "model 1: m"}
    assert httpx.post(f"{base}/begin_attempt", json=start, timeout=30).json() == {"attempt": 1}
    assert httpx.post(f"{base}/begin_attempt", json=start, timeout=30).json() == {"attempt": 2}

    def event(attempt: int, index: int) -> dict[str, Any]:
        return {
            "kind": "text_delta",
            "invocation_id": "inv_test",
            "step": "model 1: m",
            "attempt": attempt,
            "index": index,
            "data": {"delta": f"a{attempt}i{index}"},
        }

    stale = httpx.post(f"{base}/publish", json={"events": [event(1, 5)]}, timeout=30).json()
    assert (stale["stored"], stale["dropped"]) == (0, 1)  # attempt 1 is over: attempt 2 began
    for _ in range(2):  # the same call twice, as a network retry sends it
        httpx.post(f"{base}/publish", json={"events": [event(2, 0)]}, headers={"idempotency-key": "k1"}, timeout=30)
    events = pull(restate_server, topic)["events"]
    assert [(e["kind"], e["attempt"], e["seq"]) for e in events] == [("reset", 2, 1), ("text_delta", 2, 2)]

    bad = httpx.post(f"{base}/pull", json={"after": -1}, timeout=30)  # a retry loop would time out here
    assert bad.status_code >= 400 and "greater than or equal to 0" in bad.text  # terminal, naming the problem


def test_the_sse_endpoint_resumes_from_last_event_id_and_rejects_bad_input(
    stack: Stack, restate_server: RestateServer, model_server: ScriptedModelServer
) -> None:
    topic = unique("sse")
    model_server.enqueue(text("one two three"))
    stack.ingress.call("StreamingAgent", "run", {"topic": topic, "message": "count"})
    wait_until(lambda: pull(restate_server, topic)["last"] == 5, timeout=30, what="five events")

    reader = SseReader(events_url(stack, topic, "?after=1"), last_event_id=3).start()  # the header wins
    reader.wait_for(lambda events: len(events) == 2, "events 4 and 5")
    reader.close()
    assert [e["seq"] for e in reader.events] == [4, 5]

    service = f"http://127.0.0.1:{stack.services[0].port}"
    assert httpx.get(f"{service}/events/{topic}?after=x", timeout=10).status_code == 400
    assert httpx.get(f"{service}/events/", timeout=10).status_code == 404
    assert httpx.get(f"{service}/chat", timeout=10, follow_redirects=False).headers["location"] == "/chat/"
    assert httpx.post(f"{service}/chat/api/StreamingAgent/x/message", json={}, timeout=10).status_code == 404
    assert httpx.get(f"{service}/health", timeout=10).status_code == 200  # the Restate endpoint is untouched
