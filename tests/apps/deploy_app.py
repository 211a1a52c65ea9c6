"""Served by the deployment tests (tests/runtime/test_deploy.py): no model, so no model server.

- ``Greeter/greet``: records each run in ``EFFECTS_FILE`` (a refused request must leave none).
- ``Desk/<key>/message``: a chat whose message ``"ping"`` is answered at once; any other message
  waits for a person's approval (``await_approval``, announced on the topic ``Desk:<key>``).
- ``app``: the browser endpoints with an authorization hook (the principal is the ``x-user``
  header: a stand-in for a real login) and small limits; ``open_app``: the same without a hook.
"""

from __future__ import annotations

import os

import restate
from pydantic import BaseModel

from integrations.streams import (
    Access,
    ChatPage,
    TopicPublisher,
    WebLimits,
    WebRequest,
    agent_events,
    await_approval,
    with_events,
)

greeter = restate.Service("Greeter")


@greeter.handler()
async def greet(ctx: restate.Context, who: str) -> str:
    effects = os.environ.get("EFFECTS_FILE")
    if effects:
        _append(effects, f"greet {who}\n")
    return f"hello {who}"


class DeskMessage(BaseModel):
    message: str


desk = restate.VirtualObject("Desk")


@desk.handler()
async def message(ctx: restate.ObjectContext, request: DeskMessage) -> str:
    if request.message == "ping":
        return "pong"
    approved = await await_approval(ctx, f"Do {request.message}?", events=TopicPublisher(f"Desk:{ctx.key()}"))
    return f"{request.message}: {'approved' if approved else 'declined'}"


@desk.handler(kind="shared")
async def get_history(ctx: restate.ObjectSharedContext) -> list[str]:
    return []


def user_header(request: WebRequest) -> str | None:
    return request.header("x-user")


LIMITS = WebLimits(max_body_bytes=2048, max_message_chars=200, max_streams_per_client=2, posts_per_minute=3)

services = restate.app([greeter, desk, agent_events])
app = with_events(services, chats=[ChatPage(service="Desk")], access=Access(principal=user_header), limits=LIMITS)
open_app = with_events(services, chats=[ChatPage(service="Desk")])


def _append(path: str, line: str) -> None:
    """A line to a file the test reads (small, local: no need for a thread)."""
    with open(path, "a") as file:
        file.write(line)
