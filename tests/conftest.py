"""Fixtures: a real restate-server (normal and always-replay), a scripted model server, and
helpers to serve a test app in a killable process and register it."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ScriptedModelServer

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
APPS = TESTS / "apps"


SERVER_FIXTURES = frozenset({"restate_server", "replay_server", "any_server", "serve"})
"""Tests using one of these start a real restate-server: they get the ``server`` marker."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "server: starts a real restate-server (deselect with -m 'not server')")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs a restate-server, so ``./dev test -m "not server"`` runs the unit tests."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.server)


def _loopback(host: object) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host)).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_real_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test whose own process tries to reach a host off this machine (a real model provider).

    Served apps get their model address from the scripted model server (``serve(model=...)``) or a
    closed loopback port, so they cannot reach a provider either.
    """
    real_getaddrinfo = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _loopback(host if not isinstance(host, bytes) else host.decode()):
            pytest.fail(f"test tried to reach {host!r}: tests never call a real model provider", pytrace=False)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


ALWAYS_REPLAY = os.environ.get("RESTATE_ALWAYS_REPLAY") == "1"
"""RESTATE_ALWAYS_REPLAY=1 runs the whole suite on an always-replay server (``./dev test-replay``)."""


@pytest.fixture(scope="session")
def restate_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RestateServer]:
    with RestateServer(base_dir=tmp_path_factory.mktemp("restate"), always_replay=ALWAYS_REPLAY) as server:
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
    return request.getfixturevalue(name)


@pytest.fixture
def model_server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer() as server:
        yield server


class Effects:
    """Side effects recorded by served apps in a file, so they survive service restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def open_gate(self, name: str) -> None:
        """Release an app blocked in ``wait_for_gate(name)`` (the gate files live beside the log)."""
        (self.path.parent / f"gate-{name}").touch()

    def lines(self) -> list[str]:
        return [line for line in self.path.read_text().splitlines() if line]

    def count(self, entry: str) -> int:
        return sum(1 for line in self.lines() if line == entry)

    def wait_for(self, entry: str, timeout: float = 30) -> None:
        self.wait_for_count(entry, 1, timeout)

    def wait_for_count(self, entry: str, count: int, timeout: float = 30) -> None:
        wait_until(lambda: self.count(entry) >= count, timeout=timeout, what=f"{count}x side effect {entry!r}")


@pytest.fixture
def effects(tmp_path: Path) -> Effects:
    return Effects(tmp_path / "effects.log")


StackFactory = Callable[..., Stack]


@pytest.fixture
def serve(tmp_path: Path, effects: Effects) -> Iterator[StackFactory]:
    """``serve(server, "tests/apps/x.py:app", model=model_server, env={...}, workers=1)`` -> a started Stack."""
    stacks: list[Stack] = []

    def factory(
        server: RestateServer,
        targets: str | list[str],
        *,
        model: ScriptedModelServer | None = None,
        env: dict[str, str | None] | None = None,
        workers: int | None = 1,
    ) -> Stack:
        all_env: dict[str, str | None] = {
            # A stray call without a scripted model hits a closed loopback port, never a provider.
            "OPENAI_BASE_URL": "http://127.0.0.1:9/v1",
            "OPENAI_API_BASE": "http://127.0.0.1:9/v1",
            "OPENAI_API_KEY": "sk-test-no-real-provider",
            "EFFECTS_FILE": str(effects.path),
            "GATE_DIR": str(tmp_path),
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        if model is not None:
            all_env.update(model.client_env())
        all_env.update(env or {})
        stack = Stack(server, targets, env=all_env, log_dir=tmp_path / "logs", workers=workers).start()
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.stop()
