"""A threaded HTTP/1.1 server for test doubles that must never be the bottleneck.

Each response goes out in ONE send (status line, headers and body together) on a socket with
``TCP_NODELAY``: writing headers and body separately stalls every request ~40 ms (Nagle's algorithm
holding the body until the client's delayed ACK). Connections are kept alive, and the listen
backlog takes hundreds of clients connecting at once. Each connection has its own thread, so a
handler may block (a scripted reply that hangs) without stalling other clients.
"""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["HttpRequest", "HttpResponse", "HttpServer"]

DEFAULT_BACKLOG = 1024


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    writer: Callable[[BaseHTTPRequestHandler], None] | None = None
    """Writes the response itself (a paced stream); ``body`` is ignored then."""

    def encode(self, keep_alive: bool) -> bytes:
        """Status line, headers and body as one buffer: what goes into the single send."""
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:
            reason = "Status"
        lines = [
            f"HTTP/1.1 {self.status} {reason}",
            f"content-type: {self.content_type}",
            f"content-length: {len(self.body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in self.headers.items())
        if not keep_alive:
            lines.append("connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


App = Callable[[HttpRequest], HttpResponse]
"""Answers one request; runs on the connection's thread and may block."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: requests on one connection until the client closes it
    server: _ThreadedServer

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read requests, not logs
        return

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        request = HttpRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = self.server.app(request)
        if response.writer is not None:
            response.writer(self)
            return
        try:
            self.wfile.write(response.encode(keep_alive=not self.close_connection))
        except OSError:  # the client gave up (e.g. cut off a reply that hung): nothing to answer
            self.close_connection = True


class _ThreadedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: App, backlog: int) -> None:
        self.request_queue_size = backlog  # read by server_activate's listen()
        self.app = app
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """Shut down kept-alive client connections so their threads end with the server."""
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # a client hung up mid-request: not our problem
            return
        super().handle_error(request, client_address)


class HttpServer:
    """Serve ``app`` on ``host:port`` (port 0: a free one) from a background thread."""

    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 0, backlog: int = DEFAULT_BACKLOG) -> None:
        self._server = _ThreadedServer((host, port), app, backlog)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-http", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread = None
        self._server.server_close()
        self._server.close_connections()
