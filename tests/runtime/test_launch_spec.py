"""launch.toml: the launch facts that live next to each app, and how TARGET is resolved."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from integrations.runtime import Demo, Example, LaunchError, LaunchSpec, load_launch_file, resolve_target

from ..conftest import REPO_ROOT

FULL = '''
name = "tour"
target = "app.py:app"
offline_responder = "offline_model.py:responder"
banner = ["extra line shown in the banner", "ingress at {ingress}"]
[offline_env]
WEATHER_OFFLINE = "1"
[env]
TOUR_APPROVAL_TIMEOUT = "5s"
[[examples]]
title = "durable agent"
curl = """curl localhost:{ingress}/WeatherAgent/run --json '{"message": "What is the weather in Paris?"}'"""
[[examples]]
curl = "curl localhost:{ingress}/Chat/user123/get_history"
[demo]
service = "WeatherAgent"
handler = "run"
payload = {message = "What is the weather like in San Francisco?"}
'''


def _app(folder: Path, launch: str = FULL, files: tuple[str, ...] = ("app.py", "offline_model.py")) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        (folder / name).write_text("app = object()\nresponder = object()\n")
    (folder / "launch.toml").write_text(textwrap.dedent(launch))
    return folder


def test_full_launch_file_is_read_with_paths_relative_to_its_folder(tmp_path: Path) -> None:
    folder = _app(tmp_path / "agents" / "tour")
    spec = load_launch_file(folder / "launch.toml")
    assert spec == LaunchSpec(
        target=f"{folder / 'app.py'}:app",
        name="tour",
        source=folder / "launch.toml",
        offline_responder=f"{folder / 'offline_model.py'}:responder",
        banner=("extra line shown in the banner", "ingress at {ingress}"),
        env={"TOUR_APPROVAL_TIMEOUT": "5s"},
        offline_env={"WEATHER_OFFLINE": "1"},
        examples=(
            Example(
                "durable agent",
                """curl localhost:{ingress}/WeatherAgent/run --json '{"message": "What is the weather in Paris?"}'""",
            ),
            Example("", "curl localhost:{ingress}/Chat/user123/get_history"),
        ),
        demo=Demo("WeatherAgent", "run", {"message": "What is the weather like in San Francisco?"}),
    )


def test_minimal_launch_file_and_module_targets(tmp_path: Path) -> None:
    folder = _app(
        tmp_path / "mine",
        'target = "mypackage.app:app"\n[demo]\nservice = "Chat"\nhandler = "message"\n'
        'key = "user123"\npayload = "hi"\n',
        files=(),
    )
    spec = load_launch_file(folder / "launch.toml")
    assert spec.target == "mypackage.app:app"  # imported from the service's working directory
    assert spec.offline_responder is None and spec.examples == () and spec.banner == ()
    assert spec.demo == Demo("Chat", "message", "hi", key="user123")
    assert spec.label == "mypackage.app:app"


def test_name_is_looked_up_in_agents_first_then_the_folder_itself(tmp_path: Path) -> None:
    _app(tmp_path / "tour", 'name = "plain"\ntarget = "app.py:app"\n', files=("app.py",))
    assert resolve_target("tour", tmp_path).name == "plain"
    _app(tmp_path / "agents" / "tour", 'name = "in-agents"\ntarget = "app.py:app"\n', files=("app.py",))
    assert resolve_target("tour", tmp_path).name == "in-agents"
    assert resolve_target("tour/", tmp_path).name == "plain"  # a path is a path, not a name
    assert resolve_target("agents/tour/launch.toml", tmp_path).name == "in-agents"


def test_name_falls_back_to_an_installed_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``durable-agents up patterns`` outside the repo finds the launch.toml shipped in the package."""
    site = tmp_path / "site"
    _app(site / "shipped_app", 'name = "shipped"\ntarget = "shipped_app.app:app"\n', files=("__init__.py",))
    monkeypatch.syspath_prepend(str(site))
    elsewhere = tmp_path / "project"
    elsewhere.mkdir()
    assert resolve_target("shipped_app", elsewhere).target == "shipped_app.app:app"


def test_the_repos_own_apps_resolve() -> None:
    quickstart = resolve_target("quickstart", REPO_ROOT)
    assert quickstart.target == f"{REPO_ROOT / 'agents/quickstart/agent.py'}:app"
    assert quickstart.offline_responder == f"{REPO_ROOT / 'agents/quickstart/offline_model.py'}:responder"
    assert quickstart.demo == Demo("agent", "run", "What is the weather in Detroit?")
    patterns = resolve_target("patterns", REPO_ROOT)
    assert patterns.target == "patterns.app:app"
    assert patterns.offline_responder == f"{REPO_ROOT / 'patterns/offline.py'}:responder"


def test_code_target_uses_the_launch_file_beside_it_only_if_it_names_the_same_app(tmp_path: Path) -> None:
    folder = _app(tmp_path / "agents" / "tour")
    assert resolve_target("agents/tour/app.py:app", tmp_path).name == "tour"
    other = resolve_target("agents/tour/offline_model.py:responder", tmp_path)
    assert other == LaunchSpec(target=f"{folder / 'offline_model.py'}:responder")


def test_plain_file_and_module_targets_need_no_launch_file(tmp_path: Path) -> None:
    (tmp_path / "my_agent.py").write_text("app = object()\n")
    assert resolve_target("my_agent.py:app", tmp_path) == LaunchSpec(target=f"{tmp_path / 'my_agent.py'}:app")
    assert resolve_target("my_package.app:app", tmp_path) == LaunchSpec(target="my_package.app:app")


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ('target = "app.py:app"\nofline_responder = "x.py:r"\n', "unknown key(s) ofline_responder"),
        ('name = "x"\n', "'target' is required"),
        ('target = "app.py"\n', "must look like 'path/to/file.py:app'"),
        ('target = "missing.py:app"\n', "no such file"),
        ('target = "app.py:app"\n[env]\nPORT = 9080\n', "[env] must be a table of strings"),
        ('target = "app.py:app"\n[[examples]]\ntitle = "no curl"\n', "examples[0] needs a string 'curl'"),
        ('target = "app.py:app"\n[demo]\nservice = "x"\n', "[demo] needs strings 'service' and 'handler'"),
        ('target = "app.py:app"\nbanner = [1]\n', "'banner' must be a list of strings"),
        ('target = "app.py:app\n', "is not valid TOML"),
    ],
)
def test_malformed_launch_files_are_rejected_with_the_reason(tmp_path: Path, content: str, complaint: str) -> None:
    folder = _app(tmp_path / "app", content, files=("app.py",))
    with pytest.raises(LaunchError) as failure:
        load_launch_file(folder / "launch.toml")
    assert complaint in str(failure.value) and str(folder / "launch.toml") in str(failure.value)


def test_unknown_target_lists_where_it_looked(tmp_path: Path) -> None:
    with pytest.raises(LaunchError) as failure:
        resolve_target("nosuchapp", tmp_path)
    message = str(failure.value)
    assert str(tmp_path / "agents" / "nosuchapp" / "launch.toml") in message
    assert str(tmp_path / "nosuchapp" / "launch.toml") in message
    with pytest.raises(LaunchError, match="no such file"):
        resolve_target("missing.py:app", tmp_path)
