"""An OpenAI-compatible HTTP model server driven by a script, recording every request.

It speaks the Responses API (``POST /v1/responses``) and Chat Completions
(``POST /v1/chat/completions``), so the real ``openai`` and ``litellm`` clients run against it.
Replies come from a FIFO queue (``enqueue``) first, then from ``responder(request)``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ._replies import Reply, error, error_body
from ._streaming import Gates, Pace, chat_chunks, responses_events, write_stream


@dataclass
class ModelRequest:
    """One recorded request: which API, the JSON body, the headers, and when it arrived."""

    api: str  # "responses" or "chat"
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def items(self) -> list[dict[str, Any]]:
        """The conversation, normalised to a list of dicts (``input`` or ``messages``)."""
        if self.api == "chat":
            return list(self.body.get("messages", []))
        raw = self.body.get("input", [])
        if isinstance(raw, str):
            return [{"role": "user", "content": raw}]
        return list(raw)

    @staticmethod
    def _text_of(content: Any) -> str:
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
        return ""

    @property
    def system(self) -> str:
        if self.api == "responses":
            return str(self.body.get("instructions") or "")
        return " ".join(self._text_of(m.get("content")) for m in self.items if m.get("role") == "system")

    def user_texts(self) -> list[str]:
        return [self._text_of(i.get("content")) for i in self.items if i.get("role") == "user"]

    @property
    def last_user_text(self) -> str:
        texts = self.user_texts()
        return texts[-1] if texts else ""

    def tool_outputs(self) -> list[str]:
        """Tool results sent back to the model after the last user message."""
        outputs: list[str] = []
        for item in self.items:
            if item.get("role") == "user":
                outputs = []
            elif item.get("type") == "function_call_output":
                outputs.append(self._text_of(item.get("output")))
            elif item.get("role") == "tool":
                outputs.append(self._text_of(item.get("content")))
        return outputs

    def tool_names(self) -> list[str]:
        names = []
        for tool in self.body.get("tools") or []:
            names.append(tool.get("name") or tool.get("function", {}).get("name"))
        return [n for n in names if n]


Responder = Callable[[ModelRequest], Reply]


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
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None
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
        return int(self._httpd.server_address[1])

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

    def requests_for(self, predicate: Callable[[ModelRequest], bool]) -> list[ModelRequest]:
        with self._lock:
            return [r for r in self.requests if predicate(r)]

    def start(self) -> "ScriptedModelServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="scripted-model", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.gates.release_all()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "ScriptedModelServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling -------------------------------------------------------------------
    def _next_reply(self, request: ModelRequest) -> Reply:
        with self._lock:
            self.requests.append(request)
            if self._queue:
                return self._queue.popleft()
        try:
            return self.responder(request)
        except Exception as exc:  # a broken script must be visible, not hang the client
            return error(500, f"scripted responder failed: {exc!r}")

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    def _responses_body(self, request: ModelRequest, reply: Reply) -> dict[str, Any]:
        output: list[dict[str, Any]] = []
        if reply.text is not None:
            output.append(
                {
                    "type": "message",
                    "id": self._new_id("msg"),
                    "status": "completed",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
                }
            )
        for call in reply.tool_calls:
            output.append(
                {
                    "type": "function_call",
                    "id": self._new_id("fc"),
                    "call_id": call.call_id or self._new_id("call"),
                    "name": call.name,
                    "arguments": json.dumps(call.arguments),
                    "status": "completed",
                }
            )
        return {
            "id": self._new_id("resp"),
            "object": "response",
            "created_at": int(time.time()),
            "status": "completed",
            "model": request.model,
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": reply.input_tokens,
                "output_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }

    def _chat_body(self, request: ModelRequest, reply: Reply) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.call_id or self._new_id("call"),
                    "type": "function",
                    "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
                }
                for call in reply.tool_calls
            ]
        return {
            "id": self._new_id("chatcmpl"),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": request.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": "tool_calls" if reply.tool_calls else "stop"}
            ],
            "usage": {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
            },
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, b'{"object":"list","data":[]}')

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith("/responses"):
                    api = "responses"
                elif path.endswith("/chat/completions"):
                    api = "chat"
                else:
                    self._send(404, json.dumps({"error": {"message": f"no route {path}"}}).encode())
                    return
                body = json.loads(raw or b"{}")
                request = ModelRequest(api, body, {k.lower(): v for k, v in self.headers.items()})
                reply = server._next_reply(request)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.is_error:
                    self._send(reply.status, error_body(reply), reply.headers)
                    return
                payload = server._responses_body(request, reply) if api == "responses" else server._chat_body(request, reply)
                if body.get("stream"):
                    if api == "responses":
                        frames = responses_events(payload)
                    else:
                        frames = chat_chunks(payload, bool((body.get("stream_options") or {}).get("include_usage")))
                    pace = reply.pace or server.stream_pace
                    write_stream(self, frames, pace=pace, gates=server.gates, named_events=api == "responses")
                    return
                self._send(200, json.dumps(payload).encode(), reply.headers)

        return Handler
