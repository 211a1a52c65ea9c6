"""The scripted model server as a test double that is never the bottleneck: one send per response,
TCP_NODELAY, keep-alive, hundreds of clients at once, and replies that hang until released."""

from __future__ import annotations

import http.client
import json
import socket
import socketserver
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from integrations.runtime import wait_until
from integrations.testing import ScriptedModelServer, hang, text
from integrations.testing._http import _Handler

_SocketWriter: Any = socketserver._SocketWriter  # type: ignore[attr-defined]  # private: typeshed leaves it out
"""Where socketserver's stream handlers write (the one write a reply must be)."""

CHAT: dict[str, Any] = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as started:
        yield started


def _post(connection: http.client.HTTPConnection, payload: dict[str, Any] = CHAT) -> dict[str, Any]:
    connection.request(
        "POST", "/v1/chat/completions", body=json.dumps(payload), headers={"content-type": "application/json"}
    )
    response = connection.getresponse()
    answer: dict[str, Any] = json.loads(response.read())
    return answer


def test_each_response_is_one_write_on_a_no_delay_socket(
    server: ScriptedModelServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[bytes] = []
    no_delay: list[int] = []
    write, setup = _SocketWriter.write, _Handler.setup

    def recording_write(self: object, data: bytes) -> int:
        writes.append(bytes(data))
        written: int = write(self, data)
        return written

    def recording_setup(self: _Handler) -> None:
        setup(self)
        no_delay.append(self.connection.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    monkeypatch.setattr(_SocketWriter, "write", recording_write)
    monkeypatch.setattr(_Handler, "setup", recording_setup)
    server.enqueue(text("first"), text("second"))

    connection = http.client.HTTPConnection("127.0.0.1", server.port)
    answers = [_post(connection)["choices"][0]["message"]["content"] for _ in range(2)]
    connection.close()

    assert answers == ["first", "second"]
    assert len(writes) == 2  # headers and body went out together, once per response...
    assert all(w.startswith(b"HTTP/1.1 200 OK\r\n") and w.endswith(b"}") for w in writes)
    assert no_delay == [1]  # ...on one kept-alive connection with Nagle off


def test_hundreds_of_clients_at_once(server: ScriptedModelServer) -> None:
    clients = 300
    server.responder = lambda request: text(f"hello {request.last_user_text}")
    answers: dict[int, str] = {}
    start = threading.Barrier(clients)

    def client(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        start.wait()
        payload = {"model": "gpt-4o", "messages": [{"role": "user", "content": str(number)}]}
        answers[number] = _post(connection, payload)["choices"][0]["message"]["content"]
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert answers == {n: f"hello {n}" for n in range(clients)}
    assert len(server.requests) == clients


def test_a_held_reply_waits_for_its_gate(server: ScriptedModelServer) -> None:
    gate = threading.Event()
    server.enqueue(hang(text("released"), until=gate))
    answer: list[str] = []
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=60)
    caller = threading.Thread(
        target=lambda: answer.append(
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
            .choices[0]
            .message.content
            or ""
        )
    )
    caller.start()
    wait_until(lambda: len(server.requests) == 1, timeout=30, what="the held request to arrive")
    assert answer == []  # recorded, but not answered while the gate is shut

    gate.set()
    caller.join(timeout=30)
    assert answer == ["released"]


def test_a_reply_that_hangs_forever_is_released_when_the_server_stops() -> None:
    server = ScriptedModelServer().start()
    server.enqueue(hang())
    outcome: list[BaseException | dict[str, Any]] = []

    def call() -> None:
        try:
            outcome.append(_post(http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)))
        except Exception as exc:  # the stopping server may answer or drop the connection
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    wait_until(lambda: len(server.requests) == 1, timeout=30, what="the hung request to arrive")
    server.stop()
    caller.join(timeout=30)
    assert not caller.is_alive() and len(outcome) == 1
