"""Talking to the topic through Restate's ingress.

One pooled ``httpx.AsyncClient`` per event loop serves every publish, pull and proxied call of
the process: a model call that streams hundreds of deltas must not open hundreds of connections.
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from ..awakeables import ingress_url

__all__ = ["IngressCallError", "call_object", "ingress_client"]

_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def ingress_client() -> httpx.AsyncClient:
    """The process's pooled client for the running event loop (created on first use)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(30.0, connect=5.0),
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
        _clients[loop] = client
    return client


class IngressCallError(RuntimeError):
    """The ingress answered with an error status; ``status`` 5xx and 429 are worth retrying."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"ingress answered {status}: {body[:300]}")
        self.status = status

    @property
    def retryable(self) -> bool:
        return self.status >= 500 or self.status in (408, 409, 429)


def object_url(service: str, key: str, handler: str) -> str:
    return f"{ingress_url()}/{quote(service, safe='')}/{quote(key, safe='')}/{quote(handler, safe='')}"


async def call_object(
    service: str,
    key: str,
    handler: str,
    payload: BaseModel,
    *,
    idempotency_key: str | None = None,
    timeout: float | None = 30.0,
) -> Any:
    """Call ``service/key/handler`` over the ingress and return the decoded JSON answer."""
    headers = {"idempotency-key": idempotency_key} if idempotency_key else {}
    response = await ingress_client().post(
        object_url(service, key, handler),
        content=payload.model_dump_json(),
        headers={"content-type": "application/json", **headers},
        timeout=timeout,
    )
    if response.status_code >= 300:
        raise IngressCallError(response.status_code, response.text)
    return response.json() if response.content else None
