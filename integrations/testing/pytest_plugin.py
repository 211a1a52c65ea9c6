"""pytest fixtures to test durable agents the way they run: on a real restate-server.

Installed with the toolkit (entry point ``pytest11``), so a project's tests just ask for them:

- ``restate_server`` (session): a real restate-server; ``pytest --always-replay`` (or
  ``DURABLE_AGENTS_ALWAYS_REPLAY=1``) makes it suspend and replay the handler at every await, so
  anything not journaled runs again and shows up in the test;
- ``replay_server`` (session): always such a replaying server; ``any_server``: each test twice, once
  per mode;
- ``model_server``: a ``ScriptedModelServer`` (its ``requests`` count the model requests);
- ``serve``: ``serve(server, "agent.py:app", model=model_server)`` serves the app in its own process,
  registers it and returns the ``Stack``: ``stack.ingress.call(...)`` calls it,
  ``stack.kill_service()`` / ``stack.start_service()`` kill and restart the service while the server
  and its journal live on. Served apps reach no real provider: without a ``model`` their OpenAI base
  URL is a closed local port. Override the ``serve_env`` fixture to add variables for every app.

Fixtures of the same name in a ``conftest.py`` take precedence over these.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from ..runtime import RestateServer, Stack
from ..settings import always_replay
from ._serve import ServeFactory
from ._server import ScriptedModelServer

__all__ = ["ServeFactory"]

_NO_PROVIDER = "http://127.0.0.1:9/v1"
"""Where a served app without a scripted model sends model calls: a closed port, never a provider."""


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("durable-agents")
    group.addoption(
        "--always-replay",
        action="store_true",
        default=False,
        help="restate_server replays the handler at every await (also: DURABLE_AGENTS_ALWAYS_REPLAY=1)",
    )


@pytest.fixture(scope="session")
def restate_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestateServer]:
    """A real restate-server for the session; always-replay with ``--always-replay``."""
    replay = bool(request.config.getoption("--always-replay")) or always_replay()
    with RestateServer(base_dir=tmp_path_factory.mktemp("restate"), always_replay=replay) as server:
        yield server


@pytest.fixture(scope="session")
def replay_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestateServer]:
    """Suspends at every await: every journaled step is replayed on the next attempt."""
    with RestateServer(base_dir=tmp_path_factory.mktemp("restate-replay"), always_replay=True) as server:
        yield server


@pytest.fixture(scope="session", params=["normal", "always-replay"])
def any_server(request: pytest.FixtureRequest) -> RestateServer:
    """Run the test once on each server mode."""
    name = "restate_server" if request.param == "normal" else "replay_server"
    server: RestateServer = request.getfixturevalue(name)
    return server


@pytest.fixture
def model_server() -> Iterator[ScriptedModelServer]:
    """A scripted OpenAI-compatible model server (echoes until scripted)."""
    with ScriptedModelServer() as server:
        yield server


@pytest.fixture
def serve_env() -> dict[str, str | None]:
    """Variables added to every app ``serve`` starts (``None`` removes one); override to add yours."""
    return {}


@pytest.fixture
def serve(tmp_path: Path, serve_env: dict[str, str | None]) -> Iterator[ServeFactory]:
    """``serve(server, "agent.py:app", model=model_server, env={...}, workers=1)`` -> a started ``Stack``
    (one service process per target by default: a kill hits "the service", whichever worker Restate used)."""
    stacks: list[Stack] = []

    def factory(
        server: RestateServer,
        targets: str | list[str],
        *,
        model: ScriptedModelServer | None = None,
        env: Mapping[str, str | None] | None = None,
        workers: int | None = 1,
    ) -> Stack:
        all_env: dict[str, str | None] = {
            "OPENAI_BASE_URL": _NO_PROVIDER,
            "OPENAI_API_BASE": _NO_PROVIDER,
            "OPENAI_API_KEY": "sk-test-no-real-provider",
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        if model is not None:
            all_env.update(model.client_env())
        all_env.update(serve_env)
        all_env.update(env or {})
        stack = Stack(server, targets, env=all_env, log_dir=tmp_path / "logs", workers=workers).start()
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.stop()
