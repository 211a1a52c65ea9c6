"""The runtime and harness themselves: real server, served app, kill -9 and restart."""

from __future__ import annotations

import subprocess
import sys

import pytest

from integrations.runtime import RESTATE_SERVER_VERSION, RestateServer, locate_restate_server
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import REPO_ROOT, Effects


def test_import_agents_from_repo_root_is_the_sdk() -> None:
    """Our top-level agents/ folder must never shadow the OpenAI Agents SDK."""
    assert not (REPO_ROOT / "agents" / "__init__.py").exists()
    out = subprocess.run(
        [sys.executable, "-c", "import agents, sys; print(agents.__file__); print(hasattr(agents, 'Runner'))"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "site-packages" in out[0], out
    assert out[1] == "True"


def test_pinned_server_binary_is_used() -> None:
    binary = locate_restate_server()
    assert binary is not None
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True, check=True).stdout
    assert RESTATE_SERVER_VERSION in version


def test_kill_mid_step_then_restart_resumes_from_journal(
    any_server: RestateServer, serve: ServeFactory, effects: Effects
) -> None:
    stack = serve(any_server, "tests/apps/harness_app.py:app")
    name = f"probe-{any_server.always_replay}"
    invocation = stack.ingress.send("HarnessProbe", "run", name)
    effects.wait_for(f"second-started:{name}")
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count(f"second-started:{name}", 2)
    effects.open_gate(name)
    assert stack.ingress.attach(invocation) == "first-done,second-done"
    assert effects.count(f"first:{name}") == 1  # journaled: not re-run after the crash
    assert effects.count(f"second:{name}") == 1
    assert any_server.invocation_status(invocation) == "completed"


def test_service_env_none_removes_a_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    """``env={"NAME": None}`` serves the app as if NAME were not set; other values add or override."""
    from integrations.runtime import ServiceProcess

    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-test-process")
    monkeypatch.setenv("KEPT_AS_IS", "ours")
    service = ServiceProcess("app.py:app", port=1, env={"OPENAI_API_KEY": None, "ADDED": "yes", "NOT_SET": None})
    env = service.environment()
    assert "OPENAI_API_KEY" not in env and "NOT_SET" not in env
    assert env["ADDED"] == "yes" and env["KEPT_AS_IS"] == "ours"
