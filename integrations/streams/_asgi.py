"""Server-Sent Events and the chat page: the browser endpoints, next to or apart from the Restate app.

``with_events(restate_app)`` returns one ASGI app: ``/events/<topic>`` and ``/chat/...`` are
answered here, every other path (``/discover``, ``/invoke/...``, ``/health``) goes to the Restate
app unchanged. That is the local convenience (one port). Its ``restate_app`` and ``web_app``
attributes are the two halves: ``durable-agents serve --web-port`` (and ``up``) serve them on two
ports, and with identity keys the service port answers restate-server only. ``web_app(...)`` builds
the browser half alone, to mount in your own web tier (docs/deploy.md).

Every browser request is checked by the :class:`~._access.Access` hook (who is asking, may they act
on this chat) and the :class:`~._access.WebLimits` before anything reaches the ingress: a refused
request is answered 401/403/413/422/429 and journals nothing.

- ``GET /events/<topic>``: the topic as an SSE stream. Each event is ``id: <seq>`` plus its JSON;
  a reader resumes with ``Last-Event-ID: <seq>`` (what browsers send on reconnect) or
  ``?after=<seq>``, and gets every later event once. A ``gap`` message (no id) says events were
  dropped by the retention limit before the reader got them.
- ``GET /chat/``: the chat page; ``/chat/api/<service>/<key>/...`` is its same-origin proxy to the
  ingress, limited to the chat objects' handlers (``message``, ``history``) and to that chat's
  approvals (``approvals``: the pending ones; ``approvals/<id>/resolve|reject``: answer one, which
  records who answered).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import httpx

from ..awakeables import ingress_url
from ._access import Access, Action, Target, WebLimits, WebRequest, _Window
from ._events import AgentEvent, EventPage, PullRequest
from ._hints import hints
from ._ingress import IngressCallError, call_object, ingress_client, object_url
from ._topic import EVENTS_OBJECT

__all__ = ["ChatPage", "EventsApp", "WebApp", "web_app", "with_events"]

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


class WebApp:
    """The browser endpoints as one ASGI app (``/events/...``, ``/chat/...``; 404 elsewhere).

    ``access`` is the authorization hook (None: everyone is ``"local"``, for loopback only: the
    serve command refuses to expose it), ``limits`` the browser-path limits.
    """

    def __init__(
        self,
        *,
        chats: Sequence[ChatPage] = (ChatPage(),),
        object_name: str = EVENTS_OBJECT,
        poll_interval: float = 1.0,
        access: Access | None = None,
        limits: WebLimits | None = None,
    ) -> None:
        self.access = access
        self.limits = limits or WebLimits()
        self._routes = _Routes(list(chats), object_name, poll_interval, access, self.limits)

    def handles(self, path: str) -> bool:
        return path in ("/events", "/chat") or path.startswith(("/events/", "/chat/"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            raise NotImplementedError(f"no {scope['type']} support")  # hypercorn: no lifespan, carry on
        if not self.handles(scope["path"]):
            await _error(send, 404, f"no route {scope['path']}: this port serves /chat/ and /events/<topic>")
            return
        await self._routes.handle(scope, receive, send)


class EventsApp:
    """A Restate app with its browser endpoints on the same port (``with_events``); ``restate_app``
    and ``web_app`` are its halves, for serving them apart."""

    def __init__(self, restate_app: ASGIApp, web: WebApp) -> None:
        self.restate_app = restate_app
        self.web_app = web

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.web_app.handles(scope["path"]):
            await self.web_app(scope, receive, send)
            return
        await self.restate_app(scope, receive, send)


def web_app(
    *,
    chats: Sequence[ChatPage] = (ChatPage(),),
    object_name: str = EVENTS_OBJECT,
    poll_interval: float = 1.0,
    access: Access | None = None,
    limits: WebLimits | None = None,
) -> WebApp:
    """The browser endpoints alone, for your own web tier: it talks to Restate's ingress
    (``RESTATE_INGRESS_URL``), never to the service. ``access``: see :class:`Access`."""
    return WebApp(chats=chats, object_name=object_name, poll_interval=poll_interval, access=access, limits=limits)


def with_events(
    restate_app: ASGIApp,
    *,
    chats: Sequence[ChatPage] = (ChatPage(),),
    object_name: str = EVENTS_OBJECT,
    poll_interval: float = 1.0,
    access: Access | None = None,
    limits: WebLimits | None = None,
) -> EventsApp:
    """Serve ``/events/<topic>`` (SSE) and ``/chat/`` (the page) next to ``restate_app``.

    ``object_name`` is the registered topic object (``events_object(name)``). Readers are woken when
    a process on this host stores an event (see ``_hints``: Unix datagrams between the workers and
    service processes of one ingress); ``poll_interval`` is how often an idle reader looks anyway,
    which is how it learns of events stored on another host. ``access`` is the authorization hook
    every browser request passes (required to serve on a non-loopback address), ``limits`` the
    browser-path limits.
    """
    web = web_app(chats=chats, object_name=object_name, poll_interval=poll_interval, access=access, limits=limits)
    return EventsApp(restate_app, web)


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


class _TooLarge(Exception):
    pass


async def _body(receive: Receive, limit: int) -> bytes:
    """The request body; :class:`_TooLarge` as soon as it passes ``limit`` bytes."""
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


class _Refused(Exception):
    """A browser request answered with ``status`` before it reaches Restate."""

    def __init__(self, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or []


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


class _Routes:
    def __init__(
        self,
        chats: list[ChatPage],
        object_name: str,
        poll_interval: float,
        access: Access | None,
        limits: WebLimits,
    ) -> None:
        self.chats = {chat.service: chat for chat in chats}
        self.object_name = object_name
        self.poll_interval = poll_interval
        self.access = access
        self.limits = limits
        self.posts = _Window()
        self.streams: dict[str, int] = {}

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
        except _Refused as refused:
            await _respond(
                send, refused.status, json.dumps({"message": refused.message}).encode(), extra=refused.headers
            )
        except (httpx.TransportError, IngressCallError) as err:
            await _error(send, 502, f"the Restate ingress at {ingress_url()} is not reachable: {err}")

    # -- who is asking, and may they -------------------------------------------------------------

    async def authorize(self, scope: Scope, action: Action, target: Target) -> str:
        """The principal of this request if it may ``action`` on ``target``; else :class:`_Refused`."""
        if self.access is None:
            return "local"
        principal = await self.access.identify(WebRequest.from_scope(scope))
        if not principal:
            raise _Refused(401, "not signed in: the authorization hook found no principal in this request")
        if not await self.access.check(principal, action, target):
            raise _Refused(403, f"{principal} may not {action.value} {target.service}/{target.key}")
        return principal

    def client_of(self, scope: Scope, principal: str) -> str:
        """Whose streams are counted: the principal, or the client address when there is no hook."""
        if self.access is not None:
            return principal
        client = scope.get("client")
        return str(client[0]) if client else "unknown"

    def topic_target(self, topic: str) -> Target:
        """The chat a topic belongs to (by its ChatPage's template), else the topic object's key."""
        for chat in self.chats.values():
            pattern = re.escape(chat.topic).replace(re.escape("{service}"), re.escape(chat.service))
            match = re.fullmatch(pattern.replace(re.escape("{key}"), "(?P<key>.+)"), topic)
            if match:
                return Target(chat.service, match.group("key"))
        return Target(self.object_name, topic)

    # -- the page and its proxy ---------------------------------------------------------------

    async def page(self, send: Send) -> None:
        config = {"chats": [asdict(chat) for chat in self.chats.values()]}
        html = PAGE.read_text(encoding="utf-8").replace("/*CONFIG*/{}", json.dumps(config).replace("</", "<\\/"))
        await _respond(send, 200, html.encode(), "text/html; charset=utf-8", [(b"cache-control", b"no-store")])

    async def proxy(self, scope: Scope, receive: Receive, send: Send, method: str, parts: list[str]) -> None:
        """Forward the page's calls to the ingress: same origin for the browser, nothing else reachable."""
        if len(parts) < 3 or parts[0] not in self.chats or not parts[1]:
            await _error(send, 404, f"the chat page proxies only the chats {sorted(self.chats)}")
            return
        chat, key, rest = self.chats[parts[0]], parts[1], parts[2:]
        target = Target(chat.service, key)
        if rest == ["message"] and method == "POST":
            await self.post_message(scope, receive, send, chat, target)
        elif rest == ["history"] and method == "GET":
            await self.authorize(scope, Action.READ, target)
            url = object_url(chat.service, key, chat.history)
            await _forward(send, await ingress_client().post(url, content=b"", timeout=30.0))
        elif rest == ["approvals"] and method == "GET":
            await self.authorize(scope, Action.LIST_APPROVALS, target)
            pending = await self.pending_approvals(chat, key)
            await _respond(send, 200, json.dumps({"approvals": list(pending.values())}).encode())
        elif len(rest) == 3 and rest[0] == "approvals" and rest[2] in ("resolve", "reject") and method == "POST":
            await self.answer_approval(scope, receive, send, chat, target, rest[1], rest[2] == "resolve")
        else:
            await _error(
                send,
                405 if rest in (["message"], ["history"], ["approvals"]) else 404,
                "POST .../message, GET .../history, GET .../approvals, POST .../approvals/<id>/resolve|reject",
            )

    async def post_message(self, scope: Scope, receive: Receive, send: Send, chat: ChatPage, target: Target) -> None:
        await self.authorize(scope, Action.POST, target)
        body = await self.read_body(receive)
        try:
            message = json.loads(body).get("message") if body else None
        except (ValueError, AttributeError):
            message = None
        if not isinstance(message, str):
            raise _Refused(400, 'send {"message": "<text>"}')
        if len(message) > self.limits.max_message_chars:
            raise _Refused(422, f"the message has {len(message)} characters; at most {self.limits.max_message_chars}")
        wait = self.posts.admit(f"{chat.service}/{target.key}", self.limits.posts_per_minute)
        if wait:
            raise _Refused(
                429,
                f"more than {self.limits.posts_per_minute} messages a minute to this chat; try again in {wait:.0f} s",
                [(b"retry-after", str(max(1, round(wait))).encode())],
            )
        url = object_url(chat.service, target.key, chat.message)
        response = await ingress_client().post(
            url,
            content=body,
            headers={"content-type": "application/json"},
            timeout=None,  # a person may be awaited
        )
        await _forward(send, response)

    async def read_body(self, receive: Receive) -> bytes:
        try:
            return await _body(receive, self.limits.max_body_bytes)
        except _TooLarge:
            raise _Refused(413, f"the request body is larger than {self.limits.max_body_bytes} bytes") from None

    async def pending_approvals(self, chat: ChatPage, key: str) -> dict[str, dict[str, Any]]:
        """The chat's approvals still waiting for a person, by awakeable id, from its topic."""
        topic = chat.topic.replace("{service}", chat.service).replace("{key}", key)
        pending: dict[str, dict[str, Any]] = {}
        after = 0
        while True:
            page = await self.pull(topic, after, limit=1000)  # the whole retained topic, in few calls
            for event in page.events:
                _track_approval(pending, event)
                after = event.seq
            if not page.events or page.last <= after:
                return pending

    async def answer_approval(
        self, scope: Scope, receive: Receive, send: Send, chat: ChatPage, target: Target, awakeable: str, approve: bool
    ) -> None:
        """Resolve one of this chat's pending approvals with who answered: ``{"approved", "by",
        "message"}`` (a reject, too, resolves it, so the journal and the stream record the person)."""
        principal = await self.authorize(scope, Action.RESOLVE, target)
        body = await self.read_body(receive)
        if awakeable not in await self.pending_approvals(chat, target.key):
            raise _Refused(404, f"no pending approval {awakeable} in {chat.service}/{target.key}")
        text = body.decode("utf-8", errors="replace").strip()
        said: dict[str, Any] = {}
        if text.startswith("{"):
            with contextlib.suppress(ValueError):
                loaded = json.loads(text)
                said = loaded if isinstance(loaded, dict) else {}
        reason = "" if approve else str(said.get("message") or said.get("reason") or ("" if said else text))
        # with a hook, who answered is the principal it found; without one (local), what the page says
        by = principal if self.access is not None else str(said.get("by") or principal)
        answer = {"approved": approve, "by": by[:200], "message": reason[:500]}
        url = f"{ingress_url()}/restate/awakeables/{quote(awakeable, safe='')}/resolve"
        response = await ingress_client().post(url, json=answer)
        await _forward(send, response)

    # -- Server-Sent Events -----------------------------------------------------------------------

    async def pull(self, topic: str, after: int, limit: int = 100) -> EventPage:
        answer = await call_object(self.object_name, topic, "pull", PullRequest(after=after, limit=limit))
        return EventPage.model_validate(answer)

    async def events(self, scope: Scope, receive: Receive, send: Send, topic: str) -> None:
        principal = await self.authorize(scope, Action.READ, self.topic_target(topic))
        client = self.client_of(scope, principal)
        if self.streams.get(client, 0) >= self.limits.max_streams_per_client:
            raise _Refused(429, f"{client} has {self.limits.max_streams_per_client} event streams open already")
        self.streams[client] = self.streams.get(client, 0) + 1
        try:
            await self.stream(scope, receive, send, topic)
        finally:
            self.streams[client] -= 1
            if not self.streams[client]:
                del self.streams[client]

    async def stream(self, scope: Scope, receive: Receive, send: Send, topic: str) -> None:
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


def _track_approval(pending: dict[str, dict[str, Any]], event: AgentEvent) -> None:
    awakeable = event.data.get("awakeable_id")
    if not isinstance(awakeable, str):
        return
    if event.kind == "approval":
        pending[awakeable] = {"awakeable_id": awakeable, "question": event.data.get("question", ""), "seq": event.seq}
    elif event.kind == "approval_done":
        pending.pop(awakeable, None)


async def _forward(send: Send, response: httpx.Response) -> None:
    """The ingress's answer, as it is (status, body, content type, the invocation id)."""
    passed = (
        [(b"x-restate-id", response.headers["x-restate-id"].encode())] if "x-restate-id" in response.headers else []
    )
    await _respond(
        send, response.status_code, response.content, response.headers.get("content-type", "application/json"), passed
    )


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
