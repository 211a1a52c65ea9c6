"""A bare ASGI app around an agent run, for the benchmark's plain-openai-agents variants.

``POST /run`` (or any path in ``routes``) with the message as a JSON string; the answer comes back
as one. No Restate and no journal: served by the same serve command as the durable variants, so the
only difference between them is durability.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Handler = Callable[[str], Awaitable[str]]


async def _reply(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def runner_app(routes: dict[str, Handler]) -> App:
    """An ASGI app answering ``POST <path>`` with ``routes[path](message)``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        handler = routes.get(scope["path"])
        if handler is None or scope["method"] != "POST":
            await _reply(send, 404, json.dumps({"error": f"POST one of {sorted(routes)}"}).encode())
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        await _reply(send, 200, json.dumps(await handler(json.loads(body))).encode())

    return app
