"""The serve command's options: ``--server granian|hypercorn|auto`` and ``--workers N``.

Each served variant answers through ONE port from several worker processes, echoes their stdout,
stops as a whole on SIGTERM (also with an invocation in flight, after the Restate app installed its
own SIGTERM handler) and exits with the code of a worker that died on its own.
"""

from __future__ import annotations

import os
import signal
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bench._proc import group_pids
from integrations.runtime import Ingress, RestateServer, ServiceProcess, free_port, wait_until
from integrations.runtime._ports import port_open
from integrations.runtime._service import _listeners
from integrations.runtime.serve import SERVERS, build_parser, choose_server, default_workers, main

from .conftest import stopped_at_the_end

APP = """
import asyncio
import os
from pathlib import Path

import restate

service = restate.Service("{name}")


@service.handler()
async def pid(ctx: restate.Context, tag: str) -> int:
    print(f"{{tag}} served by {{os.getpid()}}")  # stdout: echoed by the launcher
    await asyncio.sleep(0.05)  # overlap the calls, so the kernel hands them to different workers
    return os.getpid()


@service.handler()
async def gated(ctx: restate.Context, gate: str) -> str:
    await ctx.run_typed("started", lambda: Path(gate + ".started").touch())
    while not Path(gate).exists():
        await asyncio.sleep(0.02)
    return "through"


@service.handler()
async def die(ctx: restate.Context) -> str:
    asyncio.get_running_loop().call_later(0.2, os._exit, 3)
    return "bye"


app = restate.app([service])
"""

VARIANTS = [("granian", 2), ("hypercorn", 2), ("granian", 1), ("hypercorn", 1)]


def _members(pgid: int) -> set[int]:
    return set(group_pids(pgid))


def _app(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"{name.lower()}.py"
    path.write_text(textwrap.dedent(APP.format(name=name)))
    return f"{path}:app"


@pytest.fixture
def services() -> Iterator[list[ServiceProcess]]:
    """Service processes a test started (append them): killed when it ends, passed or failed."""
    with stopped_at_the_end(ServiceProcess.kill) as started:
        yield started


def test_auto_picks_granian_when_installed_and_names_are_checked() -> None:
    pytest.importorskip("granian")
    assert choose_server("auto") == "granian"
    assert choose_server("hypercorn") == "hypercorn"
    assert set(SERVERS) == {"auto", "granian", "hypercorn"}
    with pytest.raises(ValueError, match="--server must be one of"):
        choose_server("uvicorn")


def test_defaults_are_auto_and_one_worker_per_usable_cpu() -> None:
    args = build_parser().parse_args(["app.py:app"])
    assert (args.server, args.workers, args.port) == ("auto", None, 9080)
    assert default_workers() == len(os.sched_getaffinity(0))


def test_zero_workers_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["nowhere.py:app", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err


@pytest.mark.parametrize(("server", "workers"), VARIANTS)
def test_workers_share_one_port_echo_stdout_and_stop_together(
    server: str,
    workers: int,
    restate_server: RestateServer,
    tmp_path: Path,
    services: list[ServiceProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    name = f"Serve{server.title()}{workers}"
    service = ServiceProcess(_app(tmp_path, name), server=server, workers=workers, echo=True)
    services.append(service.start())
    restate_server.register(service.uri)
    assert service.pid is not None
    group = service.pid
    assert _listeners(service.port) == workers  # start() returned once every worker listened on the port

    seen: set[int] = set()
    batch = 0

    def answered_by_every_worker() -> bool:
        nonlocal batch
        batch += 1
        ingress = Ingress(restate_server.ingress_url)
        try:
            with ThreadPoolExecutor(8) as pool:
                pids = pool.map(lambda i: ingress.call(name, "pid", f"call-{batch}-{i}"), range(8))
                seen.update(pids)
        finally:
            ingress.close()
        return len(seen) >= workers

    wait_until(answered_by_every_worker, timeout=60, what=f"answers from {workers} worker processes")
    assert len(seen) == workers
    assert seen <= _members(group)  # every worker is in the service's process group: kill/stop reach it
    echoed: list[str] = []

    def every_worker_echoed() -> bool:
        echoed.extend(capsys.readouterr().out.splitlines())
        return all(
            any(line.startswith("[service] call-") and line.endswith(f"served by {pid}") for line in echoed)
            for pid in seen
        )

    wait_until(every_worker_echoed, timeout=10, what="the stdout of every worker echoed with the [service] prefix")

    service.stop()
    assert not port_open(service.port)
    assert not _members(group)


@pytest.mark.parametrize(("server", "workers"), [("granian", 2), ("hypercorn", 2)])
def test_sigterm_stops_every_worker_cleanly_with_an_invocation_in_flight(
    server: str, workers: int, restate_server: RestateServer, tmp_path: Path, services: list[ServiceProcess]
) -> None:
    name = f"Graceful{server.title()}"
    target = _app(tmp_path, name)
    service = ServiceProcess(target, server=server, workers=workers)
    services.append(service.start())
    restate_server.register(service.uri)
    ingress = Ingress(restate_server.ingress_url)
    gate = tmp_path / "gate"
    invocation = ingress.send(name, "gated", str(gate))
    wait_until(lambda: Path(str(gate) + ".started").exists(), timeout=30, what="the gated handler to start")
    assert service.pid is not None
    group = service.pid

    os.killpg(group, signal.SIGTERM)  # what `kill`, systemd or Kubernetes send; the Restate app has its handler
    wait_until(lambda: not service.running, timeout=30, what="the service to exit on SIGTERM")
    assert service.returncode == 0
    wait_until(lambda: not _members(group), timeout=10, what="every worker to exit")

    service.start()  # the invocation was not lost: Restate retries it on the restarted service
    gate.touch()
    assert ingress.attach(invocation) == "through"
    ingress.close()


@pytest.mark.parametrize("server", ["granian", "hypercorn"])
def test_a_worker_dying_on_its_own_ends_the_service_with_its_exit_code(
    server: str, restate_server: RestateServer, tmp_path: Path, services: list[ServiceProcess]
) -> None:
    name = f"Mortal{server.title()}"
    service = ServiceProcess(_app(tmp_path, name), server=server, workers=2)
    services.append(service.start())
    restate_server.register(service.uri)
    assert service.pid is not None
    group = service.pid
    assert Ingress(restate_server.ingress_url).call(name, "die") == "bye"
    wait_until(lambda: not service.running, timeout=30, what="the service to exit")
    assert service.returncode == 3
    wait_until(lambda: not _members(group), timeout=10, what="the other worker to be stopped")


@pytest.mark.parametrize("server", ["granian", "hypercorn"])
def test_an_app_that_fails_to_import_fails_the_start(server: str, tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("raise RuntimeError('broken at import')\n")
    service = ServiceProcess(f"{broken}:app", server=server, workers=2, log_path=tmp_path / "service.log")
    with pytest.raises(RuntimeError, match="exited with"):
        service.start(timeout=60)
    assert "broken at import" in (tmp_path / "service.log").read_text()


def test_the_cli_passes_workers_and_server_to_the_service() -> None:
    from integrations.runtime._cli import build_parser as cli_parser

    up = cli_parser().parse_args(["up", "app.py:app", "--workers", "3", "--server", "hypercorn"])
    assert (up.workers, up.server) == (3, "hypercorn")
    serve = cli_parser().parse_args(["serve", "app.py:app"])
    assert (serve.workers, serve.server) == (None, "auto")
    with pytest.raises(SystemExit):
        cli_parser().parse_args(["serve", "app.py:app", "--workers", "0"])


def test_durable_agents_serve_with_workers_answers_from_each(restate_server: RestateServer, tmp_path: Path) -> None:
    from ._launcher import Launcher

    target = _app(tmp_path, "CliWorkers")
    port = free_port()
    launcher = Launcher(["serve", target, "--port", str(port), "--workers", "2", "--server", "granian"], cwd=tmp_path)
    try:
        launcher.wait_for("Register it with your restate-server")
        assert _listeners(port) == 2
        restate_server.register(f"http://localhost:{port}")
        ingress = Ingress(restate_server.ingress_url)
        pid = ingress.call("CliWorkers", "pid", "from-cli")
        launcher.wait_for(f"from-cli served by {pid}")  # `serve` echoes the app's stdout without a prefix
        ingress.close()
        assert launcher.interrupt() == 0
        assert not port_open(port)
    finally:
        launcher.close()
