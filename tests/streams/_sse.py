"""A Server-Sent Events reader for tests: follows ``/events/<topic>`` in a thread, keeps every message.

It speaks HTTP/1.1 over a plain socket so that ``close()`` really disconnects (a shutdown of the
socket wakes the blocked reader at once), as a browser tab that goes away does.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from integrations.runtime import wait_until


def _body_lines(stream: BinaryIO, chunked: bool) -> Iterator[str]:
    """The response body as text lines, decoding HTTP/1.1 chunked transfer encoding."""
    if not chunked:
        for raw in stream:
            yield raw.decode().rstrip("\r\n")
        return
    pending = b""
    while True:
        size_line = stream.readline()
        if not size_line:
            return
        size = int(size_line.strip() or b"0", 16)
        if size == 0:
            return
        pending += stream.read(size)
        stream.readline()
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.decode().rstrip("\r")


class SseReader:
    """Connect to ``url`` (optionally resuming with ``Last-Event-ID``) and record what arrives.

    ``messages`` holds every ``data:`` message decoded, with its ``id:`` under ``"_id"`` (or
    ``None``); ``events`` only those with an id (the topic's events, not ``gap`` notices).
    ``ended`` is set when the connection closes, for whatever reason (e.g. the service was killed).
    """

    def __init__(self, url: str, *, last_event_id: int | None = None, headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.last_event_id = last_event_id
        self.headers = dict(headers or {})
        self.messages: list[dict[str, Any]] = []
        self.status: int | None = None
        self.ended = threading.Event()
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._thread = threading.Thread(target=self._read, name=f"sse {url}", daemon=True)

    def start(self) -> SseReader:
        self._thread.start()
        wait_until(lambda: self.status is not None or self.ended.is_set(), timeout=30, what=f"SSE {self.url}")
        return self

    def _read(self) -> None:
        url = urlsplit(self.url)
        path = url.path + (f"?{url.query}" if url.query else "")
        resume = f"Last-Event-ID: {self.last_event_id}\r\n" if self.last_event_id is not None else ""
        resume += "".join(f"{name}: {value}\r\n" for name, value in self.headers.items())
        try:
            sock = self._socket = socket.create_connection((url.hostname, url.port), timeout=30)
            sock.settimeout(None)
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\nAccept: text/event-stream\r\n{resume}\r\n".encode()
            )
            stream = sock.makefile("rb")
            status = stream.readline().split()
            headers: dict[str, str] = {}
            while line := stream.readline().strip():
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            self.status = int(status[1])
            event_id: str | None = None
            data: list[str] = []
            for text in _body_lines(stream, headers.get("transfer-encoding") == "chunked"):
                if text.startswith("id:"):
                    event_id = text[3:].strip()
                elif text.startswith("data:"):
                    data.append(text[5:].strip())
                elif text == "" and data:
                    message = json.loads("\n".join(data))
                    message["_id"] = int(event_id) if event_id is not None else None
                    with self._lock:
                        self.messages.append(message)
                    event_id, data = None, []
        except Exception as exc:
            self.error = exc
        finally:
            self.ended.set()

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.messages if m["_id"] is not None]

    @property
    def last_seq(self) -> int:
        events = self.events
        return events[-1]["seq"] if events else 0

    def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool], what: str, timeout: float = 60) -> None:
        wait_until(lambda: condition(self.events), timeout=timeout, what=what)

    def close(self) -> None:
        """Disconnect now; what was received stays in ``messages``."""
        sock = self._socket
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.ended.wait(10)
