"""The authorization hook's pieces and the post-rate window, without a server (the served
behaviour is tests/runtime/test_deploy.py)."""

from __future__ import annotations

import asyncio

from integrations.streams import Access, Action, Target, WebRequest, owner_only
from integrations.streams._access import _Window


def test_owner_only_allows_a_principal_its_own_chats_and_nothing_else() -> None:
    assert owner_only("alice", Action.POST, Target("Chat", "alice"))
    assert owner_only("alice", Action.RESOLVE, Target("Chat", "alice:travel"))
    assert not owner_only("alice", Action.READ, Target("Chat", "bob"))
    assert not owner_only("alice", Action.READ, Target("Chat", "alice2"))  # a prefix is not ownership
    assert not owner_only("alice", Action.READ, Target("Chat", "bob:alice"))


def test_the_request_view_reads_headers_cookies_and_the_client() -> None:
    scope = {
        "method": "GET",
        "path": "/events/Chat:alice",
        "headers": [(b"Cookie", b"session=abc; theme=dark"), (b"X-User", b"alice")],
        "client": ("10.0.0.7", 5123),
    }
    request = WebRequest.from_scope(scope)
    assert (request.cookie("session"), request.cookie("missing")) == ("abc", None)
    assert request.header("x-user") == "alice" and request.client == "10.0.0.7"


def test_hooks_may_be_async() -> None:
    async def who(request: WebRequest) -> str | None:
        return request.header("x-user")

    async def only_reads(principal: str, action: Action, target: Target) -> bool:
        return action is Action.READ

    access = Access(principal=who, allows=only_reads)
    request = WebRequest("GET", "/", {"x-user": "carol"})
    assert asyncio.run(access.identify(request)) == "carol"
    assert asyncio.run(access.check("carol", Action.READ, Target("Chat", "x")))
    assert not asyncio.run(access.check("carol", Action.POST, Target("Chat", "carol")))


def test_the_post_window_admits_the_limit_per_key_then_says_how_long_to_wait() -> None:
    window = _Window()
    assert [window.admit("Chat/a", 2, now=t) for t in (0.0, 1.0)] == [0.0, 0.0]
    assert window.admit("Chat/a", 2, now=2.0) == 58.0  # the first post leaves the minute at 60 s
    assert window.admit("Chat/b", 2, now=2.0) == 0.0  # counted per key
    assert window.admit("Chat/a", 2, now=60.5) == 0.0
