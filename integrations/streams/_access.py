"""Who may do what through the browser endpoints: the authorization hook, and the limits.

The chat page's endpoints act on Restate objects on a browser's behalf: they read a chat's event
stream, post to a chat, list its pending approvals and resolve or reject them. Each request is
checked with one hook, :class:`Access`: ``principal(request)`` says who is asking (from your
session cookie, a JWT, a header set by your proxy; ``None``: nobody, 401), and
``allows(principal, action, target)`` whether they may act on that chat. The default ``allows``
lets a principal act on the chats whose key is its own name, or starts with ``<name>:``.

Without a hook every request is allowed as the principal ``"local"``: right for ``durable-agents
up`` on this machine, refused by the serve command on an address other machines can reach.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from http.cookies import SimpleCookie
from typing import Any, TypeVar

__all__ = ["Access", "Action", "Target", "WebLimits", "WebRequest", "owner_only"]

_T = TypeVar("_T")


class Action(StrEnum):
    """What a browser asks to do with a chat."""

    READ = "read"
    """Follow the chat's event stream (``/events/<topic>``) or read its history."""
    POST = "post"
    """Send a message to the chat (starts an agent run)."""
    LIST_APPROVALS = "list_approvals"
    """See which tool calls of the chat wait for a person."""
    RESOLVE = "resolve"
    """Approve or reject one of them."""


@dataclass(frozen=True)
class Target:
    """The object a request acts on: a chat (``service``, ``key``), or a topic no chat page names
    (``service`` is then the topic object, e.g. ``AgentEvents``, and ``key`` the topic)."""

    service: str
    key: str


@dataclass(frozen=True)
class WebRequest:
    """What the hook sees of a browser request: method, path, headers (lower-case names), the
    client's address and its cookies."""

    method: str
    path: str
    headers: Mapping[str, str]
    client: str | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def cookie(self, name: str) -> str | None:
        jar: SimpleCookie = SimpleCookie()
        jar.load(self.headers.get("cookie", ""))
        morsel = jar.get(name)
        return morsel.value if morsel is not None else None

    @classmethod
    def from_scope(cls, scope: Mapping[str, Any]) -> WebRequest:
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", []):
            name = bytes(key).decode("latin-1").lower()
            text = bytes(value).decode("latin-1")
            headers[name] = f"{headers[name]}, {text}" if name in headers and name != "cookie" else text
        client = scope.get("client")
        return cls(scope["method"], scope["path"], headers, str(client[0]) if client else None)


def owner_only(principal: str, action: Action, target: Target) -> bool:
    """The default rule: a principal may act on the chats keyed by its name (``alice``,
    ``alice:travel``), and on nothing else."""
    return target.key == principal or target.key.startswith(f"{principal}:")


PrincipalHook = Callable[[WebRequest], "str | Awaitable[str | None] | None"]
AllowsHook = Callable[[str, Action, Target], "bool | Awaitable[bool]"]


@dataclass(frozen=True)
class Access:
    """The authorization hook of the browser endpoints (see the module doc and docs/deploy.md).

    ``principal``: request -> who is asking, or None (answered 401). ``allows``: principal, action,
    target -> may they (False: 403). Either may be ``async``. They run before anything reaches
    Restate, so a refused request journals nothing. Example::

        def user(request: WebRequest) -> str | None:
            return sessions.user_of(request.cookie("session"))  # your own login


        app = with_events(restate.app([...]), access=Access(principal=user))
    """

    principal: PrincipalHook
    allows: AllowsHook = owner_only

    async def identify(self, request: WebRequest) -> str | None:
        return await _maybe_await(self.principal(request))

    async def check(self, principal: str, action: Action, target: Target) -> bool:
        return bool(await _maybe_await(self.allows(principal, action, target)))


async def _maybe_await(value: _T | Awaitable[_T]) -> _T:
    if inspect.isawaitable(value):
        return await value
    return value


@dataclass(frozen=True)
class WebLimits:
    """Limits on the browser path, checked before a request reaches Restate (nothing is journaled
    for a refused one). Counted per serving process: serve the web part with one worker (as
    ``--web-port`` does) for exact limits, or put the same limits in your own web tier.

    - ``max_body_bytes``: a larger request body gets 413;
    - ``max_message_chars``: a longer chat message gets 422;
    - ``max_streams_per_client``: more open event streams of one principal (one client address
      without a hook) get 429;
    - ``posts_per_minute``: more messages to one chat key within a minute get 429 with Retry-After.
    """

    max_body_bytes: int = 64 * 1024
    max_message_chars: int = 8_000
    max_streams_per_client: int = 8
    posts_per_minute: int = 30


@dataclass
class _Window:
    """Sliding one-minute window of post times, per chat key."""

    times: dict[str, list[float]] = field(default_factory=dict)

    def admit(self, key: str, limit: int, now: float | None = None) -> float:
        """0 if a post to ``key`` is admitted now (and counted), else the seconds until it would be."""
        now = time.monotonic() if now is None else now
        recent = [t for t in self.times.get(key, []) if now - t < 60.0]
        if len(recent) >= limit:
            self.times[key] = recent
            return 60.0 - (now - recent[0])
        recent.append(now)
        self.times[key] = recent
        if len(self.times) > 10_000:  # forget idle keys
            self.times = {k: v for k, v in self.times.items() if v and now - v[-1] < 60.0}
        return 0.0
