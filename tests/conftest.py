"""The suite's own fixtures on top of the public test kit (``integrations.testing.pytest_plugin``,
loaded through its ``pytest11`` entry point: ``restate_server``, ``replay_server``, ``any_server``,
``model_server``, ``serve``): the ``server`` marker, the guard against real providers, and the
side-effect log served test apps write to."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ScriptedModelServer
from integrations.testing.pytest_plugin import ServeFactory

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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


@pytest.fixture(scope="module")
def module_effects(tmp_path_factory: pytest.TempPathFactory) -> Effects:
    """An effects log shared by a module's tests (for apps served once per module)."""
    return Effects(tmp_path_factory.mktemp("module-effects") / "effects.log")


@pytest.fixture(scope="module")
def model() -> Iterator[ScriptedModelServer]:
    """A scripted model server shared by a module's tests (the kit's ``model_server`` is one per test)."""
    with ScriptedModelServer() as server:
        yield server


StackFactory = ServeFactory


def app_stack(app: str, *, name: str = "stack", every_mode: bool = True, ingress_env: bool = False) -> object:
    """A fixture called ``name``: ``app`` served with the test's scripted model (``model_server``) on
    ``any_server`` - each test runs once per server mode - or, with ``every_mode=False``, on the
    session's ``restate_server``. ``ingress_env`` points the commands the app prints
    (``DURABLE_AGENTS_INGRESS_URL``) at that server, so a test can run them as printed.

    In a test module: ``stack = app_stack(APP)``."""

    def served(server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer) -> Stack:
        env = {"DURABLE_AGENTS_INGRESS_URL": server.ingress_url} if ingress_env else None
        return serve(server, app, model=model_server, env=env)

    def on_any_server(any_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer) -> Stack:
        return served(any_server, serve, model_server)

    def on_restate_server(
        restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer
    ) -> Stack:
        return served(restate_server, serve, model_server)

    return pytest.fixture(name=name)(on_any_server if every_mode else on_restate_server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the chat page tests (imported on first use: most tests need no browser)."""
    from ._browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    from ._browser import opened_page

    with opened_page(browser) as opened:
        yield opened


@pytest.fixture
def serve_env(tmp_path: Path, effects: Effects) -> dict[str, str | None]:
    """Every app the kit's ``serve`` starts logs its side effects to ``effects`` and finds its gates
    beside it."""
    return {"EFFECTS_FILE": str(effects.path), "GATE_DIR": str(tmp_path)}
