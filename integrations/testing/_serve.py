"""The type of the pytest plugin's ``serve`` fixture, importable without pytest."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..runtime import RestateServer, Stack
    from ._server import ScriptedModelServer

__all__ = ["ServeFactory"]


class ServeFactory(Protocol):
    """``serve(server, "agent.py:app", model=model_server)``: the app served in its own process,
    registered with ``server``, started; the plugin stops it after the test.

    ``model`` points the app's OpenAI/LiteLLM clients at a scripted model server (without one, at a
    closed local port: a test never reaches a real provider); ``env`` adds variables (``None``
    removes one); ``workers`` is the number of service processes (one by default, so that
    ``stack.kill_service()`` hits whichever process Restate used).
    """

    def __call__(
        self,
        server: RestateServer,
        targets: str | list[str],
        *,
        model: ScriptedModelServer | None = None,
        env: Mapping[str, str | None] | None = None,
        workers: int | None = 1,
    ) -> Stack: ...
