"""Acceptance: the toolkit as a new user gets it, from a built wheel in a fresh virtualenv.

Builds the wheel, installs ``<wheel>[openai-agents]`` from PyPI into a fresh venv (about 70 s here),
copies the quickstart agent (``agents/quickstart/agent.py``) into an empty folder outside the
repository, and runs ``durable-agents up my_agent.py:app`` with a fresh HOME and no restate-server
anywhere: the server is installed from npm into the per-user cache, the agent is served and
registered, and ``curl`` answers.

It needs PyPI and the npm registry and takes about two minutes, so it runs in CI (``.ci/run`` sets
DURABLE_AGENTS_ACCEPTANCE=1) and locally on request:
``DURABLE_AGENTS_ACCEPTANCE=1 ./dev test tests/runtime/test_installed.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from integrations.runtime import RESTATE_SERVER_VERSION, free_port
from integrations.runtime._ports import port_open
from integrations.runtime.serve import load_target
from integrations.testing import ScriptedModelServer

from ..conftest import REPO_ROOT
from ..test_core_install import WALK, assert_every_core_module_imports
from ._launcher import Launcher, up_args

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(
        os.environ.get("DURABLE_AGENTS_ACCEPTANCE") != "1",
        reason="builds and installs the wheel from PyPI/npm (~2 min): set DURABLE_AGENTS_ACCEPTANCE=1 (CI does)",
    ),
]

QUICKSTART = REPO_ROOT / "agents" / "quickstart"
"""The quickstart a user copies into a project of their own: ``agent.py`` is one file that imports
only the toolkit, and its offline model plays the LLM (the weather tool answers from its labelled
sample data: ``WEATHER_OFFLINE=1``, no network)."""


def _pip(python: Path | str, *args: str, cwd: Path) -> None:
    subprocess.run([str(python), "-m", "pip", *args], cwd=cwd, check=True, timeout=600)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps`` of a copy of what the wheel is built from (the repo stays untouched)."""
    root = tmp_path_factory.mktemp("build")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for package in ("integrations", "patterns"):
        shutil.copytree(REPO_ROOT / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    _pip(sys.executable, "wheel", "--no-deps", "-q", "-w", str(root / "dist"), "./source", cwd=root)
    (built,) = (root / "dist").glob("durable_agents_toolkit-*.whl")
    return built


def test_the_wheel_ships_the_toolkit_and_its_command_but_not_the_repos_agents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "integrations/runtime/_cli.py" in names and "integrations/openai_agents/__init__.py" in names
    assert "patterns/app.py" in names and "patterns/launch.toml" in names
    # the guides the banners name (docs/*.md), for `durable-agents docs TOPIC`
    assert {f"integrations/runtime/guides/{p.name}" for p in (REPO_ROOT / "docs").glob("*.md")} <= set(names)
    assert not [n for n in names if n.startswith(("agents/", "tests/", "node_modules/"))]
    entry_points = (
        zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    )
    assert "durable-agents = integrations.runtime._cli:main" in entry_points


def test_litellm_only_install_does_not_pull_in_openai_agents(wheel: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    _pip(
        sys.executable,
        "install",
        "--dry-run",
        "--ignore-installed",
        "-q",
        "--report",
        str(report),
        f"{wheel}[litellm]",
        cwd=tmp_path,
    )
    installed = {item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]}
    assert {"durable-agents-toolkit", "litellm", "restate-sdk"} <= installed
    assert "openai-agents" not in installed


def test_a_core_install_imports_every_core_module(wheel: Path, tmp_path: Path) -> None:
    """``pip install durable-agents-toolkit`` with no extra (and pytest, for the kit's plugin): every
    module but the adapters' imports, and the error table classifies without openai."""
    venv = tmp_path / "core-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _pip(venv / "bin" / "python", "install", "-q", str(wheel), "pytest", cwd=tmp_path)
    assert_every_core_module_imports(str(venv / "bin" / "python"), script=WALK, cwd=str(tmp_path))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with ``<wheel>[openai-agents]`` and pytest, as a user installs them."""
    root = tmp_path_factory.mktemp("installed")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    _pip(venv / "bin" / "python", "install", "-q", f"{wheel}[openai-agents]", "pytest", cwd=root)
    return venv


def test_installed_quickstart_agent_answers_with_a_server_installed_into_the_cache(venv: Path, tmp_path: Path) -> None:

    project = tmp_path / "my-project"  # an empty folder outside the repository
    project.mkdir()
    (project / "my_agent.py").write_text((QUICKSTART / "agent.py").read_text())
    home = tmp_path / "home"
    home.mkdir()
    tools = [shutil.which("npm"), shutil.which("node")]
    if None in tools:
        pytest.skip("needs Node.js and npm to install restate-server")
    dirs = [str(venv / "bin"), *(str(Path(t).parent) for t in tools if t), "/usr/bin", "/bin"]
    path = os.pathsep.join(dict.fromkeys(dirs))
    if shutil.which("restate-server", path=path):
        pytest.skip("a restate-server next to npm on PATH would be used instead of the cache install")

    ingress, admin, service = free_port(), free_port(), free_port()
    offline_responder = load_target(f"{QUICKSTART / 'offline_model.py'}:responder")
    with ScriptedModelServer(offline_responder) as model:
        env = {
            "HOME": str(home),
            "PATH": path,
            "OPENAI_API_KEY": "sk-acceptance",
            "OPENAI_BASE_URL": model.base_url,
            "OPENAI_AGENTS_DISABLE_TRACING": "1",
            "WEATHER_OFFLINE": "1",
        }
        launcher = Launcher(
            up_args("my_agent.py:app", ingress=ingress, admin=admin, service=service),
            cwd=project,
            env=env,
            command=[str(venv / "bin" / "durable-agents")],
            drop=("XDG_CACHE_HOME", "DURABLE_AGENTS_RESTATE_SERVER_BIN", "PYTHONPATH", "VIRTUAL_ENV"),
        )
        try:
            launcher.wait_for("Serving. Press Ctrl-C", timeout=600)
            assert "Registered services: agent" in launcher.output
            answer = subprocess.run(
                ["curl", "-sS", f"localhost:{ingress}/agent/run", "--json", '"What is the weather in Detroit?"'],
                capture_output=True,
                text=True,
                check=True,
                timeout=120,
            ).stdout
            said = json.loads(answer)
            assert "Detroit" in said and "3°C" in said and "offline sample data" in said, answer
            assert len(model.requests) == 2
            assert launcher.interrupt() == 0
        finally:
            launcher.close()
    cached = home / ".cache" / "durable-agents" / "restate-server" / RESTATE_SERVER_VERSION
    assert (cached / "node_modules" / ".bin" / "restate-server").exists()
    assert f"installing restate-server {RESTATE_SERVER_VERSION} from npm" in launcher.errors
    assert not list(venv.rglob("node_modules"))  # nothing installed into site-packages
    assert not port_open(ingress) and not port_open(service)


def test_a_new_project_runs_offline_and_its_tests_pass(venv: Path, tmp_path: Path) -> None:
    """``durable-agents new`` in an empty folder, then ``up --demo`` with no API key, then ``pytest``."""
    binary = REPO_ROOT / "node_modules" / ".bin" / "restate-server"  # the npm install is the test above's
    env = {
        "HOME": str(tmp_path),
        "PATH": os.pathsep.join([str(venv / "bin"), "/usr/bin", "/bin"]),
        "DURABLE_AGENTS_RESTATE_SERVER_BIN": str(binary.resolve()),
        "OPENAI_AGENTS_DISABLE_TRACING": "1",
    }
    drop = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "XDG_CACHE_HOME", "PYTHONPATH", "VIRTUAL_ENV")
    run_env = {key: value for key, value in os.environ.items() if key not in drop} | env
    created = subprocess.run(
        [str(venv / "bin" / "durable-agents"), "new", "my-agent"],
        cwd=tmp_path, env=run_env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert "cd my-agent" in created.stdout
    project = tmp_path / "my-agent"
    launcher = Launcher(
        ["up", "--demo", "--ingress-port", str(free_port()), "--admin-port", str(free_port()),
         "--service-port", str(free_port())],
        cwd=project, env=env, command=[str(venv / "bin" / "durable-agents")], drop=drop,
    )  # fmt: skip
    try:
        assert launcher.finish(timeout=300) == 0
    finally:
        launcher.close()
    assert "OFFLINE MODE" in launcher.output
    assert "answer: [offline model] the tools answered:" in launcher.output
    tests = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project, env=run_env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout + tests.stderr
    # the project's test is written with the public kit: its fixtures (any_server, serve, model_server)
    # come from the toolkit's pytest plugin, installed with the wheel; the project has no conftest
    assert "2 passed" in tests.stdout  # once per server mode: normal and always-replay
    assert "any_server" in (project / "test_agent.py").read_text() and not (project / "conftest.py").exists()

    guide = subprocess.run(
        [str(venv / "bin" / "durable-agents"), "docs", "patterns"],
        cwd=project, env=run_env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    assert guide.stdout.strip() == (REPO_ROOT / "docs" / "patterns.md").read_text().strip()
