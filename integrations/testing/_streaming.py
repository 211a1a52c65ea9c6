"""Streamed replies of the scripted model server: Server-Sent Events for both OpenAI APIs.

A streamed reply is cut into one chunk per word. ``Pace`` slows it down (``delay`` between
chunks) and can hold it mid-way (after ``hold_after`` chunks) until the test opens a gate, so a
test can look at a half-streamed answer, or kill the service while the provider is streaming.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

__all__ = ["Gates", "Pace", "chat_chunks", "responses_events", "write_stream"]


@dataclass(frozen=True)
class Pace:
    """How a streamed reply is delivered.

    ``delay`` seconds pass before each chunk after the first. With ``hold_after=N`` the stream
    stops after its N-th chunk until ``ScriptedModelServer.open_gate(gate)``; an open gate lets
    every later stream through (close it again with ``close_gate``).
    """

    delay: float = 0.0
    hold_after: int | None = None
    gate: str = "stream"


class Gates:
    """Named gates a held stream waits on; thread-safe, observable by the test."""

    def __init__(self) -> None:
        self._open: set[str] = set()
        self._waiting: dict[str, int] = {}
        self._released = False
        self._condition = threading.Condition()

    def open(self, name: str) -> None:
        with self._condition:
            self._open.add(name)
            self._condition.notify_all()

    def close(self, name: str) -> None:
        with self._condition:
            self._open.discard(name)

    def held(self, name: str) -> int:
        """How many streams wait at gate ``name`` right now."""
        with self._condition:
            return self._waiting.get(name, 0)

    def release_all(self) -> None:
        """Let every held stream go (the server is stopping)."""
        with self._condition:
            self._released = True
            self._condition.notify_all()

    def wait(self, name: str, timeout: float = 300.0) -> None:
        with self._condition:
            self._waiting[name] = self._waiting.get(name, 0) + 1
            try:
                self._condition.wait_for(lambda: name in self._open or self._released, timeout=timeout)
            finally:
                self._waiting[name] -= 1


def _words(text: str) -> list[str]:
    """``"a b  c"`` -> ``["a ", "b  ", "c"]``: chunks that join back to the text."""
    return [chunk for chunk in re.findall(r"\S*\s*", text) if chunk] or [""]


# -- Responses API ---------------------------------------------------------------------------------


def responses_events(response: dict[str, Any]) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(event, is_delta)`` pairs for a completed Responses ``response`` body, in wire order."""
    sequence = 0

    def event(kind: str, **fields: Any) -> dict[str, Any]:
        nonlocal sequence
        sequence += 1
        return {"type": kind, "sequence_number": sequence, **fields}

    yield event("response.created", response={**response, "status": "in_progress", "output": [], "usage": None}), False
    for index, item in enumerate(response["output"]):
        if item["type"] == "message":
            yield (
                event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "status": "in_progress", "content": []},
                ),
                False,
            )
            for part_index, part in enumerate(item["content"]):
                where = {"item_id": item["id"], "output_index": index, "content_index": part_index}
                yield event("response.content_part.added", **where, part={**part, "text": ""}), False
                for chunk in _words(part["text"]):
                    yield event("response.output_text.delta", **where, delta=chunk, logprobs=[]), True
                yield event("response.output_text.done", **where, text=part["text"], logprobs=[]), False
                yield event("response.content_part.done", **where, part=part), False
        elif item["type"] == "function_call":
            yield (
                event(
                    "response.output_item.added",
                    output_index=index,
                    item={**item, "arguments": "", "status": "in_progress"},
                ),
                False,
            )
            where = {"item_id": item["id"], "output_index": index}
            yield event("response.function_call_arguments.delta", **where, delta=item["arguments"]), True
            yield (
                event("response.function_call_arguments.done", **where, arguments=item["arguments"], name=item["name"]),
                False,
            )
        yield event("response.output_item.done", output_index=index, item=item), False
    yield event("response.completed", response=response), False


# -- Chat Completions ------------------------------------------------------------------------------


def chat_chunks(completion: dict[str, Any], include_usage: bool) -> Iterator[tuple[dict[str, Any], bool]]:
    """``(chunk, is_delta)`` pairs for a completed ``chat.completion`` body, in wire order."""
    base = {key: completion[key] for key in ("id", "created", "model")} | {"object": "chat.completion.chunk"}
    choice = completion["choices"][0]
    message = choice["message"]

    def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}

    yield chunk({"role": "assistant", "content": ""}), False
    if message.get("content") is not None:
        for piece in _words(message["content"]):
            yield chunk({"content": piece}), True
    for index, call in enumerate(message.get("tool_calls") or []):
        head = {
            "index": index,
            "id": call["id"],
            "type": "function",
            "function": {"name": call["function"]["name"], "arguments": ""},
        }
        yield chunk({"tool_calls": [head]}), False
        yield chunk({"tool_calls": [{"index": index, "function": {"arguments": call["function"]["arguments"]}}]}), True
    yield chunk({}, choice["finish_reason"]), False
    if include_usage:
        yield {**base, "choices": [], "usage": completion["usage"]}, False


# -- the wire --------------------------------------------------------------------------------------


def write_stream(
    handler: BaseHTTPRequestHandler,
    frames: Iterator[tuple[dict[str, Any], bool]],
    *,
    pace: Pace,
    gates: Gates,
    named_events: bool,
) -> None:
    """Send ``frames`` as SSE in HTTP/1.1 chunked encoding, paced; a vanished client ends it quietly."""
    handler.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # every chunk leaves at once

    def send(data: bytes) -> None:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    try:
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.send_header("cache-control", "no-cache")
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        deltas = 0
        for frame, is_delta in frames:
            if is_delta:
                if deltas and pace.delay:
                    time.sleep(pace.delay)
                deltas += 1
            head = f"event: {frame['type']}\n" if named_events else ""
            send(f"{head}data: {json.dumps(frame)}\n\n".encode())
            if is_delta and deltas == pace.hold_after:
                gates.wait(pace.gate)
        if not named_events:
            send(b"data: [DONE]\n\n")
        handler.wfile.write(b"0\r\n\r\n")
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True  # the client died mid-stream (a killed service): nothing to do
