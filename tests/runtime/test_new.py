"""``durable-agents new``: each template is a project whose own tests pass, offline, out of the box."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.runtime._cli import main
from integrations.runtime._new import TEMPLATES, NewProjectError, new_project, service_name


@pytest.mark.server  # the project's tests start their own restate-server
@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_each_template_makes_a_project_whose_tests_pass(template: str, tmp_path: Path) -> None:
    folder = new_project(f"my-{template}", template=template, parent=tmp_path)
    assert {"agent.py", "launch.toml", "test_agent.py", "README.md", "pyproject.toml"} <= {
        p.name for p in folder.iterdir()
    }
    assert f"My{template.capitalize()}" in (folder / "agent.py").read_text()
    lint = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=folder, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    env = {key: value for key, value in os.environ.items() if key not in ("OPENAI_API_KEY", "OPENAI_BASE_URL")}
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"],
        cwd=folder, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert "passed" in tests.stdout and "failed" not in tests.stdout


def test_service_names_follow_the_docs_style() -> None:
    assert service_name("my-agent") == "MyAgent"
    assert service_name("support_bot") == "SupportBot"
    assert service_name("Weather") == "Weather"


@pytest.mark.parametrize("name", ["1st", "my agent", "class", "agents", "../up"])
def test_a_name_that_cannot_be_a_project_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(NewProjectError):
        new_project(name, parent=tmp_path)


def test_an_existing_folder_is_left_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "mine.py").write_text("# the user's\n")
    monkeypatch.chdir(tmp_path)
    assert main(["new", "taken"]) == 2
    assert "already exists and is not empty" in capsys.readouterr().err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["mine.py"]
