"""How a human resolves an awakeable: the ready-to-run command, printed where the user looks.

Restate resolves an awakeable over plain HTTP (``POST /restate/awakeables/<id>/resolve``). Agents
that wait for a person print that command; the launcher tells the service its ingress address in
``DURABLE_AGENTS_INGRESS_URL`` so the command works when the ingress is not on the default port.
Call :func:`announce` inside a journaled step (``ctx.run``) so it prints once, not on every replay.
"""

from __future__ import annotations

import json

from . import settings

__all__ = ["INGRESS_URL_ENV", "announce", "ingress_url", "reject_command", "resolve_command"]

INGRESS_URL_ENV = settings.INGRESS_URL.name
"""Environment variable the launcher sets for served apps: the ingress as the user reaches it."""


def ingress_url() -> str:
    """The ingress address a user should call, ``http://localhost:8080`` unless told otherwise."""
    return settings.INGRESS_URL.text().rstrip("/")


def _address() -> str:
    url = ingress_url()
    return url.removeprefix("http://")  # curl's default scheme; keep https:// explicit


def resolve_command(awakeable_id: str, payload: object = True) -> str:
    """``curl localhost:8080/restate/awakeables/<id>/resolve --json 'true'``, ready to paste."""
    body = json.dumps(payload)
    return f"curl {_address()}/restate/awakeables/{awakeable_id}/resolve --json '{body}'"


def reject_command(awakeable_id: str, reason: str = "rejected") -> str:
    """The matching reject call: the awaiting handler sees a TerminalError with ``reason``."""
    return f"curl {_address()}/restate/awakeables/{awakeable_id}/reject -H 'content-type: text/plain' -d '{reason}'"


def announce(text: str) -> None:
    """Print a message the user must see now (stdout, flushed even when piped)."""
    print(text, flush=True)
