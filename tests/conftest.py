"""Fixtures: a real restate-server (normal and always-replay), a scripted model server, and
helpers to serve a test app in a killable process and register it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ScriptedModelServer

os.environ.setdefault("OPENAI_AGENTS_DISABLE_TRACING", "1")
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

TESTS = Path(__file__).resolve().parent
REPO_ROOT = TESTS.parent
APPS = TESTS / "apps"


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


@pytest.fixture()
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


@pytest.fixture()
def effects(tmp_path: Path) -> Effects:
    return Effects(tmp_path / "effects.log")


StackFactory = Callable[..., Stack]


@pytest.fixture()
def serve(tmp_path: Path, effects: Effects) -> Iterator[StackFactory]:
    """``serve(server, "tests/apps/x.py:app", model=model_server, env={...})`` -> a started Stack."""
    stacks: list[Stack] = []

    def factory(
        server: RestateServer,
        targets: str | list[str],
        *,
        model: ScriptedModelServer | None = None,
        env: dict[str, str] | None = None,
    ) -> Stack:
        all_env = {
            "EFFECTS_FILE": str(effects.path),
            "GATE_DIR": str(tmp_path),
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        if model is not None:
            all_env.update(model.client_env())
        all_env.update(env or {})
        stack = Stack(server, targets, env=all_env, log_dir=tmp_path / "logs").start()
        stacks.append(stack)
        return stack

    yield factory
    for stack in stacks:
        stack.stop()
