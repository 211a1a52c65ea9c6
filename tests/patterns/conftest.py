"""Shared fixtures for the pattern tests.

One scripted model server and one served stack per (restate-server, app), kept for the whole
session: starting a service process costs seconds, so the tests share them instead of serving a
fresh one each (session-scoped rather than package-scoped because pytest interleaves these tests
with others when it groups the ``any_server`` parameters). Every test still sets its own model
responder (``model_server`` resets it), uses unique inputs, and gets the stack re-registered,
since other tests may have registered services of the same name (another ``Chat``) on the same
server in the meantime.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ModelRequest, Reply, ScriptedModelServer, text

from ..conftest import Effects

APP = "patterns.app:app"
CUSTOM = "tests/apps/patterns_custom.py:app"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def tool_messages(request: ModelRequest) -> list[dict[str, Any]]:
    return [m for m in request.items if m.get("role") == "tool"]


def invocations(server: RestateServer, service: str, handler: str, *, invoked_by: str) -> list[dict[str, Any]]:
    """The invocations of ``service/handler`` that invocation ``invoked_by`` made."""
    return server.query(
        "SELECT id, status, completion_result, completion_failure FROM sys_invocation "
        f"WHERE target_service_name = '{service}' AND target_handler_name = '{handler}' "
        f"AND invoked_by_id = '{invoked_by}'"
    )


def status_of(server: RestateServer, invocation_id: str) -> str | None:
    rows = server.query(f"SELECT status FROM sys_invocation WHERE id = '{invocation_id}'")
    return rows[0]["status"] if rows else None


def log_size(stack: Stack) -> int:
    """How much the service has logged so far: pass it as ``since`` to look only at what follows."""
    log = stack.services[0].log_path
    assert log is not None
    return len(Path(log).read_text(errors="replace"))


def review_awakeable(stack: Stack, content: str, service: str = "HumanInTheLoopService", since: int = 0) -> str | None:
    """The awakeable id from the approve command ``print_review_request`` printed for ``content``
    (after the first ``since`` characters of the service log)."""
    log = stack.services[0].log_path
    assert log is not None
    pattern = (
        rf"^\[{re.escape(service)} inv_\w+\] moderator review needed for {re.escape(repr(content))}\n"
        rf"\[{re.escape(service)} inv_\w+\]   approve: curl \S+/restate/awakeables/(\S+)/resolve --json '\"approved\"'$"
    )
    match = re.search(pattern, Path(log).read_text(errors="replace")[since:], re.MULTILINE)
    return match.group(1) if match else None


def wait_for_review(stack: Stack, content: str, service: str = "HumanInTheLoopService", since: int = 0) -> str:
    """Wait until the review request for ``content`` is printed; its awakeable id."""
    wait_until(
        lambda: review_awakeable(stack, content, service, since) is not None,
        timeout=30,
        what=f"{service}'s review request for {content!r} in the service log",
    )
    awakeable = review_awakeable(stack, content, service, since)
    assert awakeable is not None
    return awakeable


def _unscripted(request: ModelRequest) -> Reply:
    return text(f"unscripted request: {request.last_user_text[:80]}")


class SharedStacks:
    """Serves each app once per restate-server and hands out the running stack."""

    def __init__(self, model: ScriptedModelServer, effects: Effects, log_dir: Path) -> None:
        self.model = model
        self.effects = effects
        self.log_dir = log_dir
        self._stacks: dict[tuple[str, str], Stack] = {}

    def get(self, server: RestateServer, target: str) -> Stack:
        key = (server.admin_url, target)
        stack = self._stacks.get(key)
        if stack is None:
            env = {
                "EFFECTS_FILE": str(self.effects.path),
                "GATE_DIR": str(self.effects.path.parent),
                "DURABLE_AGENTS_INGRESS_URL": server.ingress_url,
                "OPENAI_AGENTS_DISABLE_TRACING": "1",
                "LITELLM_LOCAL_MODEL_COST_MAP": "True",
                **self.model.client_env(),
            }
            stack = Stack(server, target, env=env, log_dir=self.log_dir / f"stack-{len(self._stacks)}").start()
            self._stacks[key] = stack
            return stack
        for service in stack.services:
            if not service.running:  # a test that killed it failed before restarting it
                service.start()
            server.register(service.uri)
        return stack

    def stop(self) -> None:
        with ThreadPoolExecutor() as pool:  # each waits for its graceful shutdown: not one after another
            list(pool.map(Stack.stop, self._stacks.values()))


@pytest.fixture(scope="session")
def shared_model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(_unscripted) as server:
        yield server


@pytest.fixture(scope="session")
def shared_effects(tmp_path_factory: pytest.TempPathFactory) -> Effects:
    return Effects(tmp_path_factory.mktemp("pattern-effects") / "effects.log")


@pytest.fixture(scope="session")
def shared_stacks(
    shared_model: ScriptedModelServer, shared_effects: Effects, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SharedStacks]:
    stacks = SharedStacks(shared_model, shared_effects, tmp_path_factory.mktemp("pattern-logs"))
    yield stacks
    stacks.stop()


@pytest.fixture
def model_server(shared_model: ScriptedModelServer) -> ScriptedModelServer:
    """The package's model server with no requests recorded and no responder set yet."""
    shared_model.reset(_unscripted)
    return shared_model


@pytest.fixture
def effects(shared_effects: Effects) -> Effects:
    """The effects log and gate directory the shared stacks write to (tests use unique ids)."""
    return shared_effects


@pytest.fixture
def served(shared_stacks: SharedStacks) -> Callable[[RestateServer, str], Stack]:
    """``served(server, APP)`` -> the shared, registered stack serving ``APP`` on ``server``."""
    return shared_stacks.get
