"""An OpenAI-compatible HTTP model server driven by a script, recording every request.

It speaks the Responses API (``POST /v1/responses``) and Chat Completions
(``POST /v1/chat/completions``), so the real ``openai`` and ``litellm`` clients run against it.
Replies come from a FIFO queue (``enqueue``) first, then from ``responder(request)``.
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import deque
from collections.abc import Callable

from ._http import HttpRequest, HttpResponse, HttpServer
from ._replies import Reply, error
from ._request import ModelRequest
from ._streaming import Gates, Pace, chat_chunks, responses_events, write_stream
from ._wire import api_of, chat_body, error_body, reply_error_body, responses_body

__all__ = ["ModelRequest", "Responder", "ScriptedModelServer"]

Responder = Callable[[ModelRequest], Reply]

_HOLD_POLL_SECONDS = 0.05
"""How often a held reply checks whether the server is stopping (it wakes at once when released)."""


def _echo(request: ModelRequest) -> Reply:
    return Reply(text=f"echo: {request.last_user_text}")


class ScriptedModelServer:
    """Start with ``start()`` (or as a context manager); point clients at ``base_url``."""

    def __init__(self, responder: Responder | None = None, *, port: int = 0) -> None:
        self.responder: Responder = responder or _echo
        self.requests: list[ModelRequest] = []
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._stopping = threading.Event()
        self._http = HttpServer(self._answer, port=port)
        self.stream_pace = Pace()  # how replies without a pace of their own stream
        self.gates = Gates()

    def open_gate(self, name: str = "stream") -> None:
        """Let streams held at gate ``name`` (``Pace(hold_after=..., gate=name)``) go on."""
        self.gates.open(name)

    def close_gate(self, name: str = "stream") -> None:
        self.gates.close(name)

    def held(self, name: str = "stream") -> int:
        """How many streams wait at gate ``name`` right now: a model call that has not ended."""
        return self.gates.held(name)

    @property
    def port(self) -> int:
        return self._http.port

    @property
    def base_url(self) -> str:
        """The OpenAI base URL (ends in ``/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def client_env(self) -> dict[str, str]:
        """Environment that points openai, the Agents SDK and litellm at this server."""
        return {
            "OPENAI_BASE_URL": self.base_url,
            "OPENAI_API_BASE": self.base_url,
            "OPENAI_API_KEY": "sk-scripted-offline",
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }

    def enqueue(self, *replies: Reply) -> None:
        """Replies served in order before the responder is consulted."""
        with self._lock:
            self._queue.extend(replies)

    def reset(self, responder: Responder | None = None) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            if responder is not None:
                self.responder = responder

    def start(self) -> ScriptedModelServer:
        self._stopping.clear()
        self._http.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases replies that still hang
        self.gates.release_all()
        self._http.stop()

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling -------------------------------------------------------------------
    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def _record(self, request: ModelRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def _next_reply(self, request: ModelRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        try:
            return self.responder(request)
        except Exception as exc:  # a broken script must be visible, not hang the client
            return error(500, f"scripted responder failed: {exc!r}")

    def _wait(self, reply: Reply) -> None:
        """Delay and/or hold the reply; a stopping server cuts both short."""
        if reply.delay:
            self._stopping.wait(reply.delay)
        if reply.hold is not None:
            while not reply.hold.wait(_HOLD_POLL_SECONDS) and not self._stopping.is_set():
                pass

    def _answer(self, http: HttpRequest) -> HttpResponse:
        if http.method != "POST":
            return HttpResponse(200, b'{"object":"list","data":[]}')
        api = api_of(http.path)
        if api is None:
            return HttpResponse(404, error_body(f"no route {http.path}"))
        request = ModelRequest(api, json.loads(http.body or b"{}"), http.headers)
        reply = self._next_reply(request)
        self._wait(reply)
        if reply.is_error:
            return HttpResponse(reply.status, reply_error_body(reply), reply.headers)
        body = responses_body if api == "responses" else chat_body
        payload = body(request, reply, self._new_id)
        if not request.body.get("stream"):
            return HttpResponse(200, payload, reply.headers)
        completed = json.loads(payload)
        if api == "responses":
            frames = responses_events(completed)
        else:
            include_usage = bool((request.body.get("stream_options") or {}).get("include_usage"))
            frames = chat_chunks(completed, include_usage)
        pace = reply.pace or self.stream_pace
        return HttpResponse(
            200,
            b"",
            writer=lambda handler: write_stream(
                handler, frames, pace=pace, gates=self.gates, named_events=api == "responses"
            ),
        )
