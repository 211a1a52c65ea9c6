"""Which part of an app a serve process serves: Restate's endpoint, or the browser's.

An app built with ``integrations.streams.with_events`` carries two ASGI apps: ``restate_app`` (the
endpoint restate-server calls) and ``web_app`` (the chat page, ``/events/<topic>`` and the page's
ingress proxy, which browsers call). They are told apart by these attributes only, so the runtime
does not import the streams package. Served together on one port they are a local convenience;
with identity keys or a web port they are served apart (see docs/deploy.md).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ._identity import require_identity

__all__ = ["exposure_problem", "is_loopback", "service_part", "web_part"]

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]

ACCESS_HOOK = "with_events(..., access=Access(principal=...))"
"""How the authorization hook is named in messages (see integrations.streams.Access)."""


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses: only this machine can connect."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def web_part(app: Any) -> Any | None:
    """The browser-facing ASGI app of ``app``, or None if it has none."""
    return getattr(app, "web_app", None)


def service_part(app: Any, *, keys: list[str], separate: bool) -> Any:
    """What the service port serves: the whole app (local, one port), or only Restate's endpoint,
    signature-checked when ``keys`` are given."""
    restate_app = getattr(app, "restate_app", None)
    if not keys and not separate:
        return app
    served = restate_app if restate_app is not None else app
    return require_identity(served, keys) if keys else served


def exposure_problem(web: Any, host: str) -> str | None:
    """Why browser endpoints must not be served on ``host``: reachable from other machines and
    no authorization hook, so anyone could read every chat and approve every pending tool call."""
    if web is None or is_loopback(host) or getattr(web, "access", None) is not None:
        return None
    return (
        f"refusing to serve the chat page and event streams on {host}, which other machines can reach, "
        f"without an authorization hook: build the app with {ACCESS_HOOK} (see docs/deploy.md), "
        "or serve on 127.0.0.1"
    )
