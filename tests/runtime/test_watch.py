"""Every wait visible in the ``durable-agents up`` terminal; ``output`` and ``pending``.

Against the real restate-server: the quickstart's Denver retry demo shows its retries, survives a
restart of ``up`` (Ctrl-C says what is still in flight, the next ``up`` says it again and prints
the answer when it completes, ``durable-agents output ID`` prints it); approvals show the resolve
and reject commands that work when pasted; ``pending`` lists an approval before the invocation
suspends.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.runtime import Ingress, RestateServer, Stack, free_port, wait_until
from integrations.runtime._watch import InvocationWatcher, awakeable_id

from ..conftest import REPO_ROOT
from ._launcher import Launcher

WAITS_APP = """
import restate

service = restate.Service("Waits")


@service.handler()
async def approve(ctx: restate.Context, text: str) -> str:
    name, promise = ctx.awakeable(type_hint=bool)  # nothing printed, nothing journaled: the server tells
    return f"{text}: approved={await promise}"


async def _announce(name: str) -> str:
    print(f"asked for {name}", flush=True)
    return name  # journaled, as the toolkit's approval steps do


@service.handler()
async def announced(ctx: restate.Context, text: str) -> str:
    name, promise = ctx.awakeable(type_hint=bool)
    await ctx.run_typed("announce", _announce, name=name)
    return f"{text}: approved={await promise}"


@service.handler()
async def refuse(ctx: restate.Context, text: str) -> str:
    raise restate.TerminalError(f"refused {text}", 422)


@service.handler()
async def quick(ctx: restate.Context, text: str) -> str:
    return text.upper()


def _down() -> str:
    raise RuntimeError("the upstream is down\\nsecond line of the error")


@service.handler()
async def flaky(ctx: restate.Context, text: str) -> str:
    return await ctx.run_typed("call upstream", _down)


app = restate.app([service])
"""


def _up(project: Path, server: RestateServer, service_port: int, target: str = ".") -> Launcher:
    args = ["up", target, "--ingress-port", str(server.ingress_port), "--admin-port", str(server.admin_port)]
    return Launcher([*args, "--service-port", str(service_port), "--workers", "1"], cwd=project)


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "integrations.runtime", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def _waits_stack(tmp_path: Path, server: RestateServer) -> Stack:
    """The ``Waits`` app written to ``tmp_path/waits.py``, to serve against ``server`` (``with`` it)."""
    (tmp_path / "waits.py").write_text(WAITS_APP)
    return Stack(server, f"{tmp_path / 'waits.py'}:app", log_dir=tmp_path / "logs")


def _line(launcher: Launcher, text: str) -> str:
    return next(line for line in launcher.lines if text in line)


def test_awakeable_ids_are_derived_from_the_invocation_id() -> None:
    # a pair the real restate-server 1.7.12 produced: ctx.awakeable() in inv_1lG3... got signal 17
    assert awakeable_id("inv_1lG3swAZLyQF2PMNKy8N7mcwiw6xqok87K", 17) == "sign_1IRuWVx00gPzgTDdo9RCKnECYj2EvhChdAAAAEQ"
    with pytest.raises(ValueError, match="not a restate invocation id"):
        awakeable_id("bogus", 17)


@pytest.mark.server
def test_the_denver_retries_show_in_the_up_terminal_across_a_restart_and_output_fetches_the_answer(
    tmp_path: Path, restate_server: RestateServer, launchers: list[Launcher]
) -> None:
    project = tmp_path / "quickstart"
    shutil.copytree(REPO_ROOT / "agents" / "quickstart", project, ignore=shutil.ignore_patterns("__pycache__"))
    service_port = free_port()  # the same on both runs: the deployment the invocation is pinned to
    first = _up(project, restate_server, service_port)
    launchers.append(first)
    first.wait_for("Serving. Press Ctrl-C")
    # a /send: like a curl whose connection a restart cuts, nobody waits on the answer
    invocation = Ingress(restate_server.ingress_url).send("agent", "run", "What is the weather in Denver?")
    first.wait_for(f"[agent/run {invocation}] retrying step")
    retry = _line(first, f"[agent/run {invocation}] retrying step")
    assert "the weather API is down for Denver" in retry and "next attempt at" in retry
    assert "Traceback" not in first.output
    assert first.interrupt() == 0
    assert "1 request(s) still in flight" in first.output and f"  {invocation} (" in first.output

    # the documented fix: delete the fail_on_denver line, serve it again
    agent = project / "agent.py"
    agent.write_text(agent.read_text().replace("    fail_on_denver(city)\n", ""))
    second = _up(project, restate_server, service_port)
    launchers.append(second)
    second.wait_for(f"[agent/run {invocation}] in flight")
    second.wait_for(f"[agent/run {invocation}] completed:", timeout=90)
    done = _line(second, f"[agent/run {invocation}] completed:")
    assert "Denver" in done and "8°C" in done
    assert f"durable-agents output --ingress-port {restate_server.ingress_port} {invocation}" in done

    output = _cli("output", invocation, "--ingress-port", str(restate_server.ingress_port), cwd=project)
    assert output.returncode == 0, output.stderr
    assert "In Denver it is 8°C" in output.stdout
    assert second.interrupt() == 0


@pytest.mark.server
def test_approvals_failures_and_sent_requests_show_in_the_up_terminal(
    tmp_path: Path, replay_server: RestateServer, launchers: list[Launcher]
) -> None:
    """On the always-replay server an awaited awakeable suspends the invocation at once."""
    (tmp_path / "waits.py").write_text(WAITS_APP)
    launcher = _up(tmp_path, replay_server, free_port(), "waits.py")
    launchers.append(launcher)
    launcher.wait_for("Serving. Press Ctrl-C")
    ingress = Ingress(replay_server.ingress_url)
    first, second = (ingress.send("Waits", "approve", name) for name in ("first", "second"))
    for invocation in (first, second):
        launcher.wait_for(f"[Waits/approve {invocation}] waiting for approval (awakeable sign_1")
        launcher.wait_for(f"[Waits/approve {invocation}]   reject:  curl")

    resolve = _line(launcher, f"[Waits/approve {first}]   resolve: ").split("resolve: ", 1)[1]
    assert resolve.startswith(f"curl localhost:{replay_server.ingress_port}/restate/awakeables/sign_1")
    subprocess.run(shlex.split(resolve), check=True, capture_output=True, timeout=30)  # pasted as printed
    launcher.wait_for(f'[Waits/approve {first}] completed: "first: approved=True"')

    reject = _line(launcher, f"[Waits/approve {second}]   reject:  ").split("reject:  ", 1)[1]
    subprocess.run(shlex.split(reject), check=True, capture_output=True, timeout=30)
    launcher.wait_for(f"[Waits/approve {second}] failed: ")
    assert "rejected" in _line(launcher, f"[Waits/approve {second}] failed: ")

    refused = ingress.send("Waits", "refuse", "this")
    launcher.wait_for(f"[Waits/refuse {refused}] failed: [422] refused this")
    sent = ingress.send("Waits", "quick", "hello")  # nobody waits for a /send: its answer shows here
    launcher.wait_for(f'[Waits/quick {sent}] completed: "HELLO"')
    assert ingress.call("Waits", "quick", "direct") == "DIRECT"  # the caller has it: not repeated here

    flaky = ingress.send("Waits", "flaky", "x")
    launcher.wait_for(f"[Waits/flaky {flaky}] retrying step 'call upstream' (attempt ")
    assert "RuntimeError('the upstream is down" in _line(launcher, f"[Waits/flaky {flaky}] retrying step")
    admin = f"localhost:{replay_server.admin_port}/invocations/{flaky}"
    subprocess.run(["curl", "-sS", "-X", "PATCH", f"{admin}/pause"], check=True, capture_output=True, timeout=30)
    launcher.wait_for(f"[Waits/flaky {flaky}] paused after ")
    assert f"resume: curl -X PATCH {admin}/resume" in _line(launcher, f"[Waits/flaky {flaky}] paused after ")
    subprocess.run(["curl", "-sS", "-X", "PATCH", f"{admin}/kill"], check=True, capture_output=True, timeout=30)
    launcher.wait_for(f"[Waits/flaky {flaky}] failed: ")
    assert launcher.interrupt() == 0
    assert '"DIRECT"' not in launcher.output
    assert "request(s) still in flight" not in launcher.output


@pytest.mark.server
def test_pending_lists_an_approval_before_it_suspends_and_output_explains_what_it_cannot_print(
    tmp_path: Path, restate_server: RestateServer
) -> None:
    with _waits_stack(tmp_path, restate_server) as stack:
        invocation = stack.ingress.send("Waits", "announced", "pending")
        ports = ["--ingress-port", str(restate_server.ingress_port), "--admin-port", str(restate_server.admin_port)]

        def listed() -> str:
            result = _cli("pending", *ports, cwd=tmp_path)
            assert result.returncode == 0, result.stderr
            return result.stdout if invocation in result.stdout else ""

        wait_until(lambda: bool(listed()), timeout=30, what="the approval in `durable-agents pending`")
        lines = listed().splitlines()
        if not restate_server.always_replay:  # not suspended yet: found in its journal (always-replay suspends at once)
            assert restate_server.invocation_status(invocation) == "running"
        printed = (stack.services[0].log_path or Path()).read_text()
        [asked] = re.findall(r"asked for (sign_1\S+)", printed)
        assert f"[Waits/announced {invocation}] waiting for approval (awakeable {asked})" in lines
        resolve = next(line for line in lines if f"{invocation}]   resolve: " in line).split("resolve: ", 1)[1]
        assert f"/restate/awakeables/{asked}/resolve" in resolve

        not_yet = _cli("output", invocation, "--ingress-port", str(restate_server.ingress_port), cwd=tmp_path)
        assert not_yet.returncode == 1 and f"{invocation} has not completed yet" in not_yet.stderr
        assert "--wait" in not_yet.stderr

        subprocess.run(shlex.split(resolve), check=True, capture_output=True, timeout=30)
        waited = _cli("output", invocation, "--wait", "--ingress-port", str(restate_server.ingress_port), cwd=tmp_path)
        assert waited.stdout.strip() == "pending: approved=True"
        wait_until(lambda: not listed(), timeout=30, what="the resolved approval to leave `pending`")

        refused = stack.ingress.send("Waits", "refuse", "it")
        failed = _cli("output", refused, "--wait", "--ingress-port", str(restate_server.ingress_port), cwd=tmp_path)
        assert failed.returncode == 1 and f"{refused} failed: [422] refused it" in failed.stderr
    bogus = _cli("output", "inv_nope", "--ingress-port", str(restate_server.ingress_port), cwd=tmp_path)
    assert bogus.returncode == 1 and "bad invocation id" in bogus.stderr and "Traceback" not in bogus.stderr


@pytest.mark.server
def test_what_completed_since_the_last_poll_is_not_reported_in_flight_at_stop(
    tmp_path: Path, restate_server: RestateServer
) -> None:
    """``up --demo`` stops right after its request answers, between two polls: stopping looks once more."""
    with _waits_stack(tmp_path, restate_server) as stack:
        printed: list[str] = []
        watcher = InvocationWatcher(restate_server.admin_url, restate_server.ingress_url, ["Waits"], printed.append)
        invocation = stack.ingress.send("Waits", "announced", "demo")

        def seen_waiting() -> bool:
            watcher.poll()
            return (invocation, "running") in watcher.in_flight() or (invocation, "suspended") in watcher.in_flight()

        wait_until(seen_waiting, timeout=30, what="the watcher to see the request waiting")
        log = (stack.services[0].log_path or Path()).read_text()
        [asked] = re.findall(r"asked for (sign_1\S+)", log)
        stack.ingress.resolve_awakeable(asked, True)
        assert stack.ingress.attach(invocation) == "demo: approved=True"
        watcher.stop()  # no poll since the answer: only the last look at stop knows it completed
    assert watcher.in_flight() == []
    assert any(f"[Waits/announced {invocation}] completed" in line for line in printed), printed
