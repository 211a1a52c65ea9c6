"""Sessions (the ``Chat`` Virtual Object: ``message`` / ``on_message``, ``get_history`` / ``history``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text

from .conftest import APP, unique


def _numbered(request: ModelRequest) -> Reply:
    return text(f"reply to {request.last_user_text} after {len(request.items)} messages", delay=0.1)


@pytest.fixture
def stack(
    restate_server: RestateServer, served: Callable[[RestateServer, str], Stack], model_server: ScriptedModelServer
) -> Stack:
    """The patterns app on ``restate_server``, its model saying what it replies to and how much it saw."""
    model_server.responder = _numbered
    return served(restate_server, APP)


def test_chat_keeps_memory_and_queues_concurrent_messages(restate_server: RestateServer, stack: Stack) -> None:
    session = unique("session")
    sent = [f"message {i}" for i in range(5)]
    ids = [stack.ingress.send("Chat", "message", {"message": m}, key=session) for m in sent]
    replies = [stack.ingress.attach(i) for i in ids]

    assert replies == [f"reply to {m} after {2 * i + 1} messages" for i, m in enumerate(sent)]
    expected = []
    for message, reply in zip(sent, replies, strict=True):
        expected += [{"role": "user", "content": message}, {"role": "assistant", "content": reply}]
    assert stack.ingress.call("Chat", "get_history", None, key=session) == expected
    assert stack.ingress.call("Chat", "history", None, key=session) == expected
    rows = restate_server.query(
        f"SELECT value_utf8 FROM state WHERE service_name = 'Chat' AND service_key = '{session}' AND key = 'memory'"
    )
    assert json.loads(rows[0]["value_utf8"]) == expected


def test_on_message_is_a_turn_of_the_same_conversation(stack: Stack) -> None:
    """The sessions page curls ``Chat/user123/on_message``; ``message`` continues that conversation."""
    session = unique("user123")

    first = stack.ingress.call("Chat", "on_message", {"message": "Make a poem about durable execution."}, key=session)
    second = stack.ingress.call("Chat", "message", {"message": "Now make it rhyme."}, key=session)

    assert first == "reply to Make a poem about durable execution. after 1 messages"
    assert second == "reply to Now make it rhyme. after 3 messages"  # it saw the first turn
    assert [m["content"] for m in stack.ingress.call("Chat", "get_history", None, key=session)] == [
        "Make a poem about durable execution.",
        first,
        "Now make it rhyme.",
        second,
    ]
