"""How a human resolves an awakeable: the ready-to-run command, printed where the user looks.

Restate resolves an awakeable over plain HTTP (``POST /restate/awakeables/<id>/resolve``). Agents
that wait for a person print that command; the launcher tells the service its ingress address in
``DURABLE_AGENTS_INGRESS_URL`` so the command works when the ingress is not on the default port.
Call :func:`announce` inside a journaled step (``ctx.run``) so it prints once, not on every replay.
"""

from __future__ import annotations

import json

from . import settings

__all__ = ["INGRESS_URL_ENV", "announce", "ingress_url", "reject_command", "resolve_command", "waiting_label"]

INGRESS_URL_ENV = settings.INGRESS_URL.name
"""Environment variable the launcher sets for served apps: the ingress as the user reaches it."""


def ingress_url() -> str:
    """The ingress address a user should call, ``http://localhost:8080`` unless told otherwise."""
    return settings.INGRESS_URL.text().rstrip("/")


def _address(ingress: str | None) -> str:
    url = (ingress or ingress_url()).rstrip("/")
    return url.removeprefix("http://")  # curl's default scheme; keep https:// explicit


def resolve_command(awakeable_id: str, payload: object = True, *, ingress: str | None = None) -> str:
    """``curl localhost:8080/restate/awakeables/<id>/resolve --json 'true'``, ready to paste.

    ``ingress`` is the address to call (default: :func:`ingress_url`)."""
    body = json.dumps(payload)
    return f"curl {_address(ingress)}/restate/awakeables/{awakeable_id}/resolve --json '{body}'"


def reject_command(awakeable_id: str, reason: str = "rejected", *, ingress: str | None = None) -> str:
    """The matching reject call: the awaiting handler sees a TerminalError with ``reason``."""
    address = _address(ingress)
    return f"curl {address}/restate/awakeables/{awakeable_id}/reject -H 'content-type: text/plain' -d '{reason}'"


def waiting_label(ctx: object) -> str:
    """``[Service/handler inv_...]`` (``Service/key/handler`` for a keyed one): who waits, for printed commands.

    Two pending approvals are told apart by it, and ``durable-agents up`` prints its own lines about
    the same invocation with the same prefix. ``ctx`` is the handler's Restate context.
    """
    handler = getattr(ctx, "handler", None)
    service = getattr(getattr(handler, "service_tag", None), "name", None) or "?"
    key: str | None = None
    key_of = getattr(ctx, "key", None)
    if callable(key_of):
        try:
            key = str(key_of())
        except Exception:  # a plain service has no key
            key = None
    request = getattr(ctx, "request", None)
    invocation = str(request().id) if callable(request) else "?"
    parts = [service, *([key] if key else []), getattr(handler, "name", None) or "?"]
    return f"[{'/'.join(parts)} {invocation}]"


def announce(text: str) -> None:
    """Print a message the user must see now (stdout, flushed even when piped)."""
    print(text, flush=True)
