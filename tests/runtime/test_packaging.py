"""What an installed toolkit promises: adapters name their extra, importing changes no environment."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from ..conftest import REPO_ROOT

HIDE_DISTRIBUTION = """
import importlib.metadata as metadata
import sys

_real = metadata.distribution


def _distribution(name):
    if name == {distribution!r}:
        raise metadata.PackageNotFoundError(name)
    return _real(name)


metadata.distribution = _distribution
sys.modules[{module!r}] = None  # `import {module}` now fails, as if it were not installed
try:
    import {adapter}
except ImportError as err:
    print(err)
else:
    print("imported")
"""


@pytest.mark.parametrize(
    ("adapter", "distribution", "module", "extra"),
    [
        ("integrations.openai_agents", "openai-agents", "agents", "openai-agents"),
        ("integrations.litellm", "litellm", "litellm", "litellm"),
    ],
)
def test_an_adapter_without_its_extra_names_the_extra(adapter: str, distribution: str, module: str, extra: str) -> None:
    code = HIDE_DISTRIBUTION.format(distribution=distribution, module=module, adapter=adapter)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert f"pip install 'durable-agents-toolkit[{extra}]'" in out.stdout, out.stdout + out.stderr


def test_importing_the_toolkit_changes_no_environment() -> None:
    code = textwrap.dedent("""
        import os
        before = dict(os.environ)
        import integrations, integrations.errors, integrations.runtime, integrations.testing
        assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
        print("unchanged")
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    assert out.stdout.strip() == "unchanged", out.stderr


def _import_time_effects(path: Path) -> list[str]:
    """Module-level statements (not inside a def/class) that write the environment or set a litellm global."""
    found = []
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for inner in ast.walk(node):
            text = ast.unparse(inner)
            if isinstance(inner, ast.Call) and text.startswith(
                ("os.environ.setdefault", "os.environ.update", "os.putenv", "_os.environ.setdefault")
            ):
                found.append(f"{path.name}:{inner.lineno}: {text}")
            if isinstance(inner, (ast.Assign, ast.AugAssign)):
                targets = inner.targets if isinstance(inner, ast.Assign) else [inner.target]
                for target in targets:
                    name = ast.unparse(target)
                    if name.startswith(("litellm.", "os.environ[", "_os.environ[")):
                        found.append(f"{path.name}:{inner.lineno}: {name} = ...")
    return found


def test_no_module_of_the_toolkit_changes_the_environment_or_litellm_at_import() -> None:
    """Cheaper than importing litellm (seconds): every module of the wheel, checked statically."""
    modules = [p for package in ("integrations", "patterns") for p in (REPO_ROOT / package).rglob("*.py")]
    assert len(modules) > 20
    assert [effect for path in modules for effect in _import_time_effects(path)] == []


def test_dependencies_are_ranges_and_the_sdks_are_extras() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    core = project["dependencies"]
    assert not [d for d in core if "==" in d], core
    assert all("<" in d and ">=" in d for d in core), core
    names = {d.split("[")[0].split(">")[0].split("<")[0].strip() for d in core}
    # cryptography: the ed25519 request-identity key `durable-agents up` signs restate-server's requests with
    assert names == {"restate-sdk", "pydantic", "tenacity", "hypercorn", "granian", "httpx", "cryptography"}
    extras = project["optional-dependencies"]
    assert [d.split(">")[0] for d in extras["openai-agents"]] == ["openai-agents"]
    assert [d.split(">")[0] for d in extras["litellm"]] == ["litellm"]
    assert {"pytest", "pytest-asyncio"} <= {d.split(">")[0] for d in extras["test"]}
    assert project["scripts"]["durable-agents"] == "integrations.runtime._cli:main"
