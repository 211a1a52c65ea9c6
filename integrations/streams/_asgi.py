"""Server-Sent Events and the chat page, served on the same port as the Restate app.

``with_events(restate_app)`` returns one ASGI app: ``/events/<topic>`` and ``/chat/...`` are
answered here, every other path (``/discover``, ``/invoke/...``, ``/health``) goes to the Restate
app unchanged. So whatever serves the Restate app (hypercorn, ``./dev up``) serves these too.

- ``GET /events/<topic>``: the topic as an SSE stream. Each event is ``id: <seq>`` plus its JSON;
  a reader resumes with ``Last-Event-ID: <seq>`` (what browsers send on reconnect) or
  ``?after=<seq>``, and gets every later event once. A ``gap`` message (no id) says events were
  dropped by the retention limit before the reader got them.
- ``GET /chat/``: the chat page; ``/chat/api/...`` is its same-origin proxy to the ingress, limited
  to the chat objects' handlers and to resolving/rejecting awakeables.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import httpx

from ..awakeables import ingress_url
from ._events import EventPage, PullRequest
from ._hints import hints
from ._ingress import IngressCallError, call_object, ingress_client
from ._topic import EVENTS_OBJECT

__all__ = ["ChatPage", "with_events"]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PAGE = Path(__file__).with_name("static") / "chat.html"
_QUICK_POLLS = (0.02, 0.05, 0.1, 0.2, 0.4)
"""After a wake-up hint, re-read this soon if nothing new showed yet: the topic object sends its hint
while its write may still be committing."""
KEEPALIVE = 15.0


@dataclass(frozen=True)
class ChatPage:
    """A chat Virtual Object the page talks to: its handlers and the topic its runs publish to.

    ``topic`` is a template with ``{service}`` and ``{key}``; it must name the topic the object's
    ``TopicPublisher`` uses, e.g. ``TopicPublisher(f"Chat:{ctx.key()}")`` for the default.
    """

    service: str = "Chat"
    message: str = "message"
    history: str = "get_history"
    topic: str = "{service}:{key}"


def with_events(
    restate_app: ASGIApp,
    *,
    chats: Sequence[ChatPage] = (ChatPage(),),
    object_name: str = EVENTS_OBJECT,
    poll_interval: float = 1.0,
) -> ASGIApp:
    """Serve ``/events/<topic>`` (SSE) and ``/chat/`` (the page) next to ``restate_app``.

    ``object_name`` is the registered topic object (``events_object(name)``). Readers are woken when
    a process on this host stores an event (see ``_hints``: Unix datagrams between the workers and
    service processes of one ingress); ``poll_interval`` is how often an idle reader looks anyway,
    which is how it learns of events stored on another host.
    """
    routes = _Routes(list(chats), object_name, poll_interval)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path = scope["path"]
            if path in ("/events", "/chat") or path.startswith(("/events/", "/chat/")):
                await routes.handle(scope, receive, send)
                return
        await restate_app(scope, receive, send)

    return app


async def _respond(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, message: str) -> None:
    await _respond(send, status, json.dumps({"message": message}).encode())


async def _body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class _Routes:
    def __init__(self, chats: list[ChatPage], object_name: str, poll_interval: float) -> None:
        self.chats = {chat.service: chat for chat in chats}
        self.object_name = object_name
        self.poll_interval = poll_interval

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw = scope.get("raw_path") or scope["path"].encode()
        parts = [unquote(p) for p in raw.decode("latin-1").split("?")[0].split("/")[1:]]
        method = scope["method"]
        try:
            if parts[0] == "events":
                if len(parts) != 2 or not parts[1] or method != "GET":
                    await _error(send, 404, "read a topic with GET /events/<topic>")
                    return
                await self.events(scope, receive, send, parts[1])
            elif parts == ["chat"]:
                await _respond(send, 307, b"", "text/plain", [(b"location", b"/chat/")])
            elif parts == ["chat", ""] and method == "GET":
                await self.page(send)
            elif parts[:2] == ["chat", "api"]:
                await self.proxy(scope, receive, send, method, parts[2:])
            else:
                await _error(send, 404, f"no route {scope['path']}")
        except (httpx.TransportError, IngressCallError) as err:
            await _error(send, 502, f"the Restate ingress at {ingress_url()} is not reachable: {err}")

    # -- the page and its proxy ---------------------------------------------------------------

    async def page(self, send: Send) -> None:
        config = {"chats": [asdict(chat) for chat in self.chats.values()]}
        html = PAGE.read_text(encoding="utf-8").replace("/*CONFIG*/{}", json.dumps(config).replace("</", "<\\/"))
        await _respond(send, 200, html.encode(), "text/html; charset=utf-8", [(b"cache-control", b"no-store")])

    async def proxy(self, scope: Scope, receive: Receive, send: Send, method: str, parts: list[str]) -> None:
        """Forward the page's calls to the ingress: same origin for the browser, nothing else reachable."""
        body = await _body(receive)
        if len(parts) == 3 and parts[0] == "awakeables" and parts[2] in ("resolve", "reject") and method == "POST":
            url = f"{ingress_url()}/restate/awakeables/{quote(parts[1], safe='')}/{parts[2]}"
            content_type = _header(scope, b"content-type") or "application/json"
            response = await ingress_client().post(url, content=body, headers={"content-type": content_type})
        elif len(parts) == 3 and parts[0] in self.chats and parts[2] in ("message", "history"):
            chat = self.chats[parts[0]]
            handler = chat.message if parts[2] == "message" else chat.history
            if (parts[2] == "message") != (method == "POST") or not parts[1]:
                await _error(send, 405, "POST /chat/api/<service>/<key>/message, GET .../history")
                return
            url = f"{ingress_url()}/{quote(chat.service, safe='')}/{quote(parts[1], safe='')}/{quote(handler, safe='')}"
            response = await ingress_client().post(
                url,
                content=body if parts[2] == "message" else b"",
                headers={"content-type": "application/json"} if parts[2] == "message" else {},
                timeout=None if parts[2] == "message" else 30.0,  # an agent may wait for a person
            )
        else:
            await _error(send, 404, f"the chat page proxies only {sorted(self.chats)} and awakeables")
            return
        passed = (
            [(b"x-restate-id", response.headers["x-restate-id"].encode())] if "x-restate-id" in response.headers else []
        )
        await _respond(
            send,
            response.status_code,
            response.content,
            response.headers.get("content-type", "application/json"),
            passed,
        )

    # -- Server-Sent Events -----------------------------------------------------------------------

    async def pull(self, topic: str, after: int) -> EventPage:
        answer = await call_object(self.object_name, topic, "pull", PullRequest(after=after, limit=100))
        return EventPage.model_validate(answer)

    async def events(self, scope: Scope, receive: Receive, send: Send, topic: str) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        resume = _header(scope, b"last-event-id") or (query.get("after") or ["0"])[0]
        try:
            after = int(resume or 0)
            if after < 0:
                raise ValueError
        except ValueError:
            await _error(send, 400, f"Last-Event-ID / after must be a sequence number >= 0, got {resume!r}")
            return
        try:
            first = await self.pull(topic, after)
        except IngressCallError as err:
            status = 404 if err.status == 404 else 502
            await _error(send, status, f"topic object {self.object_name!r} did not answer: {err}")
            return

        gone = asyncio.Event()

        async def watch_disconnect() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.create_task(watch_disconnect())
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-cache"),
            (b"x-accel-buffering", b"no"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        async def emit(text: str) -> None:
            await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

        try:
            with hints.subscribe(topic) as hint:
                await emit("retry: 1000\n\n")
                page: EventPage | None = first
                quick = len(_QUICK_POLLS)
                loop = asyncio.get_running_loop()
                quiet_since = loop.time()
                while not gone.is_set():
                    if page is None:
                        hint.clear()
                        try:
                            page = await self.pull(topic, after)
                        except (IngressCallError, httpx.TransportError) as err:
                            log.warning("SSE %s: pulling failed, retrying: %s", topic, err)
                            page = EventPage(events=[], first=after + 1, last=after)
                            quick = len(_QUICK_POLLS)
                    if page.gap:
                        await emit(f"data: {json.dumps({'kind': 'gap', 'after': after, 'first': page.first})}\n\n")
                    for event in page.events:
                        await emit(f"id: {event.seq}\ndata: {event.model_dump_json()}\n\n")
                        after = event.seq
                    more = page.last > after
                    if page.events:
                        quiet_since = loop.time()
                        # More may follow at once. Without cross-process wake-ups look again soon,
                        # then less and less often. With them, only the few looks after a hint:
                        # the topic object's hint may come before its write is visible.
                        if not hints.listening():
                            quick = 0
                    page = None
                    if more:
                        continue
                    if loop.time() - quiet_since > KEEPALIVE:
                        await emit(": keepalive\n\n")
                        quiet_since = loop.time()
                    delay = _QUICK_POLLS[quick] if quick < len(_QUICK_POLLS) else self.poll_interval
                    quick += 1
                    if await _first_of(hint, gone, delay) is hint:
                        quick = 0
        finally:
            watcher.cancel()
            if not gone.is_set():
                with contextlib.suppress(Exception):  # the reader may be gone already
                    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _first_of(hint: asyncio.Event, gone: asyncio.Event, timeout: float) -> asyncio.Event | None:
    """Wait for a wake-up hint or a disconnect, at most ``timeout`` seconds; which one came first."""
    if gone.is_set():
        return gone
    if hint.is_set():
        return hint
    waits = {asyncio.ensure_future(hint.wait()): hint, asyncio.ensure_future(gone.wait()): gone}
    done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return waits[next(iter(done))] if done else None
