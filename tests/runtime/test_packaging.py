"""What an installed toolkit promises: adapters name their extra, importing changes no environment."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib

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


def test_importing_the_toolkit_changes_no_environment_and_no_litellm_global() -> None:
    code = textwrap.dedent("""
        import os
        before = dict(os.environ)
        import integrations, integrations.runtime, integrations.testing
        assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
        os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # our test's choice: no network at import
        before = dict(os.environ)
        import litellm
        flag = litellm.suppress_debug_info
        import integrations.litellm, integrations.openai_agents, patterns
        assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())
        assert litellm.suppress_debug_info == flag
        print("unchanged")
    """)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(REPO_ROOT), "OPENAI_AGENTS_DISABLE_TRACING": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO_ROOT)
    assert out.stdout.strip() == "unchanged", out.stderr


def test_dependencies_are_ranges_and_the_sdks_are_extras() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    core = project["dependencies"]
    assert not [d for d in core if "==" in d], core
    assert all("<" in d and ">=" in d for d in core), core
    names = {d.split("[")[0].split(">")[0].split("<")[0].strip() for d in core}
    assert names == {"restate-sdk", "pydantic", "tenacity", "hypercorn", "httpx"}
    extras = project["optional-dependencies"]
    assert [d.split(">")[0] for d in extras["openai-agents"]] == ["openai-agents"]
    assert [d.split(">")[0] for d in extras["litellm"]] == ["litellm"]
    assert {"pytest", "pytest-asyncio"} <= {d.split(">")[0] for d in extras["test"]}
    assert project["scripts"]["durable-agents"] == "integrations.runtime._cli:main"
