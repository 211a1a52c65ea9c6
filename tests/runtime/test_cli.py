"""``durable-agents up|serve`` end to end, run from a project folder outside the repository."""

from __future__ import annotations

import argparse
import socket
import textwrap
from pathlib import Path

import httpx
import pytest

from integrations.runtime import Ingress, RestateServer, free_port, wait_until
from integrations.runtime._cli import build_parser
from integrations.runtime._ports import port_open

from ..conftest import REPO_ROOT
from ._launcher import Launcher, up_args

ECHO_APP = """
import logging
import os

import restate

from greeting import GREETING  # a module beside this file, as with `python app.py`

service = restate.Service("LauncherEcho")


@service.handler()
async def shout(ctx: restate.Context, text: str) -> str:
    print(f"{GREETING}: {text}")  # stdout: echoed to the launcher's terminal and logged
    logging.getLogger("echo").warning("only in the log: %s", text)  # stderr: the log only
    return text.upper()


@service.handler()
async def where(ctx: restate.Context) -> dict:
    return {
        "cwd": os.getcwd(),
        "ingress": os.environ.get("DURABLE_AGENTS_INGRESS_URL"),
        "litellm_cost_map": os.environ.get("LITELLM_LOCAL_MODEL_COST_MAP"),
        "setting": os.environ.get("ECHO_SETTING"),
    }


app = restate.app([service])
"""

ECHO_LAUNCH = '''
name = "echo"
target = "app.py:app"
banner = ["echo banner, ingress on {ingress}"]
[env]
ECHO_SETTING = "from launch.toml"
[[examples]]
title = "Shout"
curl = """curl localhost:{ingress}/LauncherEcho/shout --json '"hello"'"""
'''


MORTAL_APP = """
import asyncio
import os

import restate

service = restate.Service("MortalService")


@service.handler()
async def quit(ctx: restate.Context) -> str:
    asyncio.get_running_loop().call_later(0.2, os._exit, 3)  # after the answer has gone out
    return "bye"


app = restate.app([service])
"""


def _plain_app(name: str) -> str:
    return textwrap.dedent(f'''
        import restate

        service = restate.Service("{name}")


        @service.handler()
        async def greet(ctx: restate.Context, who: str) -> str:
            print(f"greeting {{who}}")
            return f"hello {{who}}"


        app = restate.app([service])
    ''')


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A user's project folder: an app with a launch.toml under agents/echo, a plain file, a module."""
    root = tmp_path / "project"
    echo = root / "agents" / "echo"
    echo.mkdir(parents=True)
    (echo / "app.py").write_text(ECHO_APP)
    (echo / "greeting.py").write_text('GREETING = "hi from beside"\n')
    (echo / "launch.toml").write_text(ECHO_LAUNCH)
    (root / "plain.py").write_text(_plain_app("PlainGreeter"))
    (root / "served_module.py").write_text(_plain_app("ServeOnlyGreeter"))
    (root / "mortal.py").write_text(MORTAL_APP)
    return root


def _up_beside(
    server: RestateServer,
    target: str,
    project: Path,
    launchers: list[Launcher],
    *,
    service: int,
    data_dir: str | None = None,
    drop: tuple[str, ...] = (),
) -> Launcher:
    """``up TARGET`` on the ports of the restate-server ``server`` already runs, serving on port
    ``service``: returned once it says it serves (it is closed when the test ends)."""
    launcher = Launcher(
        up_args(target, ingress=server.ingress_port, admin=server.admin_port, service=service, data_dir=data_dir),
        cwd=project,
        drop=drop,
    )
    launchers.append(launcher)
    launcher.wait_for("Serving. Press Ctrl-C")
    return launcher


@pytest.mark.server  # starts its own restate-server, not through a fixture
def test_up_starts_a_server_serves_registers_and_echoes_service_stdout(
    project: Path, launchers: list[Launcher]
) -> None:
    ingress, admin, service = free_port(), free_port(), free_port()
    launcher = Launcher(
        up_args("echo", ingress=ingress, admin=admin, service=service, data_dir="data"),
        cwd=project,
        env={"LITELLM_LOCAL_MODEL_COST_MAP": ""},
    )
    launchers.append(launcher)
    launcher.wait_for("Serving. Press Ctrl-C")
    assert "starting restate-server" in launcher.output
    assert "Registered services: LauncherEcho" in launcher.output
    assert f"""curl localhost:{ingress}/LauncherEcho/shout --json '"hello"'""" in launcher.output
    assert f"echo banner, ingress on {ingress}" in launcher.output
    assert f"UI:     http://localhost:{admin}" in launcher.output
    # signed by default: the service answers its restate-server only, anyone else gets 401
    assert f"Signed: :{service} answers only this restate-server" in launcher.output
    assert (project / "data" / "request-identity.pem").exists()
    unsigned = httpx.post(f"http://127.0.0.1:{service}/invoke/LauncherEcho/shout", content=b'"x"', timeout=10)
    assert unsigned.status_code == 401

    client = Ingress(f"http://127.0.0.1:{ingress}")
    assert client.call("LauncherEcho", "shout", "hello") == "HELLO"
    launcher.wait_for("[service] hi from beside: hello")
    log = project / "data" / "service.log"
    wait_until(lambda: "only in the log: hello" in log.read_text(), timeout=10, what="logging in the service log")
    assert "hi from beside: hello" in log.read_text()
    assert "only in the log" not in launcher.output

    facts = client.call("LauncherEcho", "where")
    client.close()
    assert facts == {
        "cwd": str(project),
        "ingress": f"http://localhost:{ingress}",
        "litellm_cost_map": "",  # the user's own setting (here: empty) is left alone
        "setting": "from launch.toml",
    }

    assert launcher.interrupt() == 0
    assert "stopping" in launcher.output
    assert not port_open(ingress) and not port_open(service)  # it stopped the server and the service it started


def test_up_sets_the_litellm_cost_map_for_the_service_unless_the_user_did(
    project: Path, launchers: list[Launcher], restate_server: RestateServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("LITELLM_LOCAL_MODEL_COST_MAP", raising=False)
    launcher = _up_beside(restate_server, "agents/echo", project, launchers, service=free_port())
    facts = Ingress(restate_server.ingress_url).call("LauncherEcho", "where")
    assert facts["litellm_cost_map"] == "True"
    assert launcher.interrupt() == 0


def test_up_reuses_a_restate_server_already_running_on_the_ports(
    project: Path, launchers: list[Launcher], restate_server: RestateServer
) -> None:
    service = free_port()
    launcher = _up_beside(
        restate_server, "plain.py:app", project, launchers, service=service, data_dir="data", drop=("OPENAI_API_KEY",)
    )
    assert "already running" in launcher.output and "starting restate-server" not in launcher.output
    assert "the app names no offline_responder, so the\ngeneric offline model answers" in launcher.output
    # No launch.toml beside plain.py: the banner lists the registered handlers instead.
    assert "Registered services: PlainGreeter" in launcher.output
    assert f"curl localhost:{restate_server.ingress_port}/PlainGreeter/greet --json" in launcher.output

    assert Ingress(restate_server.ingress_url).call("PlainGreeter", "greet", "Ada") == "hello Ada"
    launcher.wait_for("[service] greeting Ada")
    assert launcher.interrupt() == 0
    assert restate_server.answering()  # not ours to stop
    assert not port_open(service)
    assert "stays registered on the restate-server" in launcher.output  # says what it leaves behind
    assert "curl -X DELETE" in launcher.output


def test_up_refuses_a_port_held_by_something_that_is_not_restate(project: Path, launchers: list[Launcher]) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        launcher = Launcher(
            up_args("echo", ingress=taken, admin=free_port(), service=free_port(), data_dir="data"),
            cwd=project,
        )
        launchers.append(launcher)
        assert launcher.finish() == 2
    assert f"port {taken} (ingress) is already in use by something that is not a restate-server" in launcher.errors
    assert "--ingress-port" in launcher.errors
    assert "starting restate-server" not in launcher.output


def test_serve_only_prints_how_to_register_and_serves_a_module_from_the_cwd(
    project: Path, launchers: list[Launcher], restate_server: RestateServer
) -> None:
    port = free_port()
    launcher = Launcher(["serve", "served_module:app", "--port", str(port)], cwd=project, drop=("OPENAI_API_KEY",))
    launchers.append(launcher)
    launcher.wait_for("Register it with your restate-server")
    assert "OPENAI_API_KEY is not set: OpenAI model calls will fail" in launcher.output  # no invented answers
    assert "OFFLINE MODE" not in launcher.output
    assert f"restate deployments register http://localhost:{port}" in launcher.output
    assert f"""curl localhost:9070/deployments --json '{{"uri": "http://localhost:{port}"}}'""" in launcher.output
    assert "starting restate-server" not in launcher.output

    restate_server.register(f"http://localhost:{port}")  # what the reader does, with the docs' address
    assert Ingress(restate_server.ingress_url).call("ServeOnlyGreeter", "greet", "Grace") == "hello Grace"
    launcher.wait_for("greeting Grace")
    assert launcher.interrupt() == 0
    assert not port_open(port)
    assert "RuntimeWarning" not in launcher.errors and "Traceback" not in launcher.errors


def test_unknown_target_is_a_clear_error(project: Path, launchers: list[Launcher]) -> None:
    launcher = Launcher(["serve", "nosuchapp", "--port", str(free_port())], cwd=project)
    launchers.append(launcher)
    assert launcher.finish() == 1
    assert "cannot resolve TARGET 'nosuchapp'" in launcher.errors


def test_up_exits_when_the_service_dies_on_its_own(
    project: Path, launchers: list[Launcher], restate_server: RestateServer
) -> None:
    launcher = _up_beside(restate_server, "mortal.py:app", project, launchers, service=free_port(), data_dir="data")
    assert Ingress(restate_server.ingress_url).call("MortalService", "quit") == "bye"
    assert launcher.finish() == 1
    assert "the service exited with code 3" in launcher.errors
    assert str(project / "data" / "service.log") in launcher.errors


def test_a_python_file_without_an_attribute_serves_its_app(
    project: Path, launchers: list[Launcher], restate_server: RestateServer
) -> None:
    port = free_port()
    launcher = Launcher(["serve", "plain.py", "--port", str(port)], cwd=project)
    launchers.append(launcher)
    launcher.wait_for("Register it with your restate-server")
    restate_server.register(f"http://localhost:{port}")
    assert Ingress(restate_server.ingress_url).call("PlainGreeter", "greet", "Ada") == "hello Ada"
    assert launcher.interrupt() == 0


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        ("import restate\ndef broken(:\n", "broken.py:app", ["broken.py:2: SyntaxError: invalid syntax", "^"]),
        ("import restate\nsvc = restate.Service('S')\napp = restate.app([svc])\n", "broken.py:nope",
         ["broken.py has no attribute 'nope'; it defines app"]),
        ("import no_such_module_here\n", "broken.py:app", ["imports no_such_module_here, which is not installed"]),
    ],
)  # fmt: skip
def test_a_target_that_cannot_load_is_one_short_message_printed_once(
    project: Path, launchers: list[Launcher], source: str, target: str, expected: list[str]
) -> None:
    (project / "broken.py").write_text(source)
    launcher = Launcher(["serve", target, "--port", str(free_port()), "--workers", "2"], cwd=project)
    launchers.append(launcher)
    assert launcher.finish() == 1
    for text in expected:
        assert text in launcher.errors
    assert launcher.errors.count("durable-agents serve:") == 1  # two workers, one message
    assert "Traceback" not in launcher.errors and "RuntimeWarning" not in launcher.errors


def test_demo_without_a_demo_says_so_before_starting_anything(project: Path, launchers: list[Launcher]) -> None:
    launcher = Launcher(["up", "plain.py:app", "--demo", "--ingress-port", str(free_port()),
                         "--admin-port", str(free_port()), "--service-port", str(free_port()), "--data-dir", "data"],
                        cwd=project)  # fmt: skip
    launchers.append(launcher)
    assert launcher.finish() == 2
    assert "has no [demo]" in launcher.errors
    assert "starting" not in launcher.output


@pytest.mark.parametrize(
    ("command", "flag"),
    [
        (["serve", "plain.py"], "--port"),
        (["up", "plain.py", "--ingress-port", "0", "--admin-port", "0"], "--service-port"),
    ],
)
def test_a_busy_port_is_one_line_naming_the_port_and_the_flag(
    project: Path, launchers: list[Launcher], command: list[str], flag: str
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        args = [str(free_port()) if arg == "0" else arg for arg in command]
        launcher = Launcher([*args, "--port" if command[0] == "serve" else "--service-port", str(taken)], cwd=project)
        launchers.append(launcher)
        assert launcher.finish() == 2
    what = " (service)" if command[0] == "up" else ""
    assert launcher.error_lines == [
        f"durable-agents: port {taken}{what} is already in use; stop what holds it or pass {flag}"
    ]
    assert "starting" not in launcher.output


def test_docs_lists_prints_and_locates_the_shipped_guides(project: Path, launchers: list[Launcher]) -> None:
    listing = Launcher(["docs"], cwd=project)
    launchers.append(listing)
    assert listing.finish() == 0
    assert any(line.split()[:1] == ["patterns"] for line in listing.lines), listing.output
    assert any(line.split()[:1] == ["errors"] for line in listing.lines)

    page = Launcher(["docs", "docs/patterns.md"], cwd=project)  # as a banner names it
    launchers.append(page)
    assert page.finish() == 0
    assert page.output.strip() == (REPO_ROOT / "docs" / "patterns.md").read_text().strip()

    where = Launcher(["docs", "errors", "--path"], cwd=project)
    launchers.append(where)
    assert where.finish() == 0
    assert Path(where.output.strip()).read_text() == (REPO_ROOT / "docs" / "errors.md").read_text()

    unknown = Launcher(["docs", "nonsense"], cwd=project)
    launchers.append(unknown)
    assert unknown.finish() == 1
    assert (
        unknown.errors.startswith("durable-agents: no guide 'nonsense'; there are: ") and "patterns" in unknown.errors
    )


def test_help_is_plain_text_with_public_names_only() -> None:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    pages = [parser.format_help(), *(command.format_help() for command in subparsers.choices.values())]
    assert set(subparsers.choices) == {"new", "up", "serve", "output", "pending", "docs"}
    for page in pages:
        for markup in ("``", ":mod:", ":func:", ":class:", "integrations.runtime._", "_cli", "_launch_spec"):
            assert markup not in page, (markup, page)
