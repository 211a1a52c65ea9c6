"""ADK runs on the chat page's contract (integrations.google_adk.chat_object, integrations.streams) and
ADK memory on Restate (RestateMemoryService), against a real restate-server and the scripted model.

Under ``./dev test-replay`` the server replays at every await: the exact event counts asserted here
then also prove that a replay publishes nothing twice and that memory calls are journaled.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from integrations.google_adk import confirmation_of
from integrations.runtime import RestateServer, wait_until
from integrations.testing import error, text, tool_call

from .conftest import AdkRig, start_rig

APP = "tests/apps/adk_chat_app.py:app"
MODEL_STEP = "model 1: openai/gpt-test"


class Rig(AdkRig):
    """The served chat app, its scripted model and its side-effect log, shared by the module's tests."""

    def say(self, service: str, key: str, message: str) -> str:
        answer = self.stack.ingress.call(service, "message", {"message": message}, key=key)
        assert isinstance(answer, str)
        return answer

    def events(self, topic: str) -> list[dict[str, Any]]:
        response = httpx.post(
            f"{self.stack.server.ingress_url}/AgentEvents/{quote(topic, safe='')}/pull",
            json={"after": 0, "limit": 1000},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events

    def events_until(self, topic: str, kind: str) -> list[dict[str, Any]]:
        wait_until(lambda: kind in kinds(self.events(topic)), timeout=30, what=f"a {kind} event on {topic}")
        return self.events(topic)


@pytest.fixture(scope="module")
def rig(restate_server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    for served in start_rig(restate_server, tmp_path_factory.mktemp("adk-events"), app=APP):
        yield Rig(served.stack, served.model, served.effects, served.log_dir)


@pytest.fixture(autouse=True)
def fresh_model(rig: Rig) -> None:
    rig.model.reset()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def kinds(events: list[dict[str, Any]]) -> list[str]:
    return [event["kind"] for event in events]


def of(events: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in events if event["kind"] == kind]


ANSWER = "Oslo is sunny and mild today"


def test_a_turn_publishes_input_tool_call_result_streamed_text_and_answer_once_each(rig: Rig) -> None:
    key = unique("oslo")
    rig.model.enqueue(tool_call("get_weather", {"city": "Oslo"}, call_id="call_oslo"), text(ANSWER))
    assert rig.say("AdkAssistant", key, "Weather in Oslo?") == ANSWER

    events = rig.events_until(f"AdkAssistant:{key}", "answer")
    assert sorted(set(kinds(events))) == ["answer", "run_started", "text_delta", "tool_call", "tool_result"]
    (started,) = of(events, "run_started")
    assert (started["data"]["input"], started["step"], started["attempt"]) == ("Weather in Oslo?", MODEL_STEP, 0)
    (call,) = of(events, "tool_call")
    assert (call["data"]["name"], call["data"]["call_id"], call["step"], call["attempt"]) == (
        "get_weather",
        "call_oslo",
        MODEL_STEP,
        1,
    )
    assert call["data"]["arguments"] == '{"city": "Oslo"}'
    (result,) = of(events, "tool_result")
    assert result["data"] == {"call_id": "call_oslo", "output": '{"city": "Oslo", "sky": "sunny", "temperature": 21.5}'}
    assert (result["step"], result["attempt"]) == ("tool call_oslo", 0)
    deltas = of(events, "text_delta")
    assert len(deltas) > 1 and "".join(event["data"]["delta"] for event in deltas) == ANSWER  # streamed, in pieces
    assert {event["step"] for event in deltas} == {"model 2: openai/gpt-test"}
    assert [event["data"]["text"] for event in of(events, "answer")] == [ANSWER]
    # Nothing twice: one attempt per model step, each (step, attempt, index) once, the tool body once.
    assert not of(events, "reset") and {event["attempt"] for event in events} == {0, 1}
    assert len({(e["step"], e["attempt"], e["index"], e["kind"]) for e in events}) == len(events)
    assert rig.effects.count("weather:Oslo") == 1
    assert len(rig.model.requests) == 2 and all(request.body.get("stream") is True for request in rig.model.requests)

    history = rig.stack.ingress.call("AdkAssistant", "get_history", None, key=key)
    assert history == [
        {"role": "user", "content": "Weather in Oslo?"},
        {"type": "function_call", "name": "get_weather", "call_id": "call_oslo", "arguments": '{"city": "Oslo"}'},
        {
            "type": "function_call_output",
            "call_id": "call_oslo",
            "output": '{"city": "Oslo", "sky": "sunny", "temperature": 21.5}',
        },
        {"role": "assistant", "content": ANSWER},
    ]


def test_a_failed_model_call_is_published_and_its_retry_streams_again_after_a_reset(rig: Rig) -> None:
    key = unique("flaky")
    rig.model.enqueue(error(500, "overloaded", headers={"retry-after-ms": "10"}), text("Fine now, thanks"))
    assert rig.say("AdkAssistant", key, "Hello?") == "Fine now, thanks"

    events = rig.events_until(f"AdkAssistant:{key}", "answer")
    streamed = [event for event in events if event["step"] == MODEL_STEP and event["kind"] != "run_started"]
    assert [(event["kind"], event["attempt"]) for event in streamed][:2] == [("error", 1), ("reset", 2)]
    (failed,) = of(events, "error")
    assert failed["data"]["terminal"] is False and "overloaded" in failed["data"]["message"]
    deltas = of(events, "text_delta")
    assert {event["attempt"] for event in deltas} == {2}  # the retry's text, after the reset
    assert "".join(event["data"]["delta"] for event in deltas) == "Fine now, thanks"
    assert [event["data"]["text"] for event in of(events, "answer")] == ["Fine now, thanks"]
    assert len(rig.model.requests) == 2  # Restate retried the step: LiteLLM's own retries are off


@pytest.mark.parametrize(
    ("amount", "decision", "approved", "reason", "result"),
    [
        (100, {"approved": True, "by": "Ada", "message": ""}, True, "", "transferred 100 EUR"),
        (200, {"approved": False, "by": "Bob", "message": "too much"}, False, "too much", None),
    ],
)
def test_a_confirmation_is_announced_on_the_topic_and_its_decision_says_who_and_when(
    rig: Rig, amount: int, decision: dict[str, Any], approved: bool, reason: str, result: str | None
) -> None:
    key = unique("bank")
    rig.model.enqueue(tool_call("transfer_money", {"amount": amount}, call_id="call_wire"), text("Done."))
    invocation = rig.stack.ingress.send("AdkAssistant", "message", {"message": f"Send {amount} EUR"}, key=key)
    topic = f"AdkAssistant:{key}"
    (approval,) = of(rig.events_until(topic, "approval"), "approval")
    assert approval["data"]["tool"] == "transfer_money"
    assert approval["data"]["question"] == f'transfer_money({{"amount": {amount}}})'
    assert len(rig.model.requests) == 1  # the run waits for the person, not for the model

    rig.stack.ingress.resolve_awakeable(approval["data"]["awakeable_id"], decision)
    assert rig.stack.ingress.attach(invocation) == "Done."
    events = rig.events_until(topic, "answer")
    (done,) = of(events, "approval_done")
    assert (done["data"]["awakeable_id"], done["data"]["approved"]) == (approval["data"]["awakeable_id"], approved)
    assert (done["data"]["by"], done["data"]["reason"]) == (decision["by"], reason)
    assert done["data"]["at"].endswith("+00:00")
    assert rig.effects.count(f"transfer:{amount}") == (1 if approved else 0)
    results = [event["data"]["output"] for event in of(events, "tool_result")]
    if result is not None:
        assert results == [result] and result in rig.model.requests[-1].tool_outputs()[0]
    else:  # ADK's own gate answers the model; the tool body never ran
        assert results == ['{"error": "This tool call is rejected."}']
        assert "transferred" not in "".join(rig.model.requests[-1].tool_outputs())


def test_memory_from_one_session_is_recalled_by_load_memory_in_the_next(rig: Rig) -> None:
    user = unique("ada")
    rig.model.enqueue(text("Noted: teal."))
    assert rig.say("AdkRecall", f"{user}:1", "Remember that my favourite colour is teal") == "Noted: teal."
    rig.model.enqueue(tool_call("load_memory", {"query": "favourite colour"}, call_id="call_mem"), text("It is teal."))
    assert rig.say("AdkRecall", f"{user}:2", "What is my favourite colour?") == "It is teal."

    (recalled,) = rig.model.requests[-1].tool_outputs()
    assert "Remember that my favourite colour is teal" in recalled  # found through the memory object

    def search(query: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = rig.stack.ingress.call("AdkMemory", "search", query, key=f"recall:{user}")
        return found

    texts = [entry["content"]["parts"][0]["text"] for entry in search("teal favourite colour")]
    # Most words shared first; ties in the order stored (session 1 before session 2), each entry once.
    assert texts == [
        "Remember that my favourite colour is teal",
        "What is my favourite colour?",
        "Noted: teal.",
        "It is teal.",
    ]
    first = search("Remember")[0]
    assert first["author"] == "user" and first["timestamp"].endswith("+00:00")
    assert rig.stack.ingress.call("AdkMemory", "delete", first["id"], key=f"recall:{user}") is True
    assert [entry["content"]["parts"][0]["text"] for entry in search("teal")] == ["Noted: teal.", "It is teal."]


def test_the_chat_pages_decision_is_an_adk_confirmation() -> None:
    assert confirmation_of({"approved": True, "by": "Ada", "message": ""}).confirmed is True
    rejected = confirmation_of({"approved": False, "by": "Bob", "message": "too much"})
    assert (rejected.confirmed, rejected.hint) == (False, "too much")
