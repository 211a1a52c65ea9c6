"""Serve a Restate app: ``python -m integrations.runtime.serve TARGET --port N [--workers N] [--server S]``.

This is the process :class:`ServiceProcess` starts (``durable-agents up|serve`` and the tests); it
serves exactly one app and nothing else. TARGET is ``package.module:attr`` or ``path/to/file.py:attr``.
File paths let deployable agents live in the top-level ``agents/`` folder, which must not be a
package (the OpenAI Agents SDK owns ``import agents``); as with ``python path/to/file.py``, the file's
folder goes first on ``sys.path`` so the app can import the modules beside it.

Restate talks HTTP/2 to a service, cleartext with prior knowledge, one long bidirectional stream per
invocation attempt. Two ASGI servers do that with the SDK:

- ``granian`` (the default when installed): a Rust HTTP/2 layer, measurably cheaper per journal step
  than hypercorn (see docs/benchmark.md), and its own worker processes sharing the port;
- ``hypercorn``: the pure-Python fallback; with ``--workers`` > 1 each worker binds the port with
  ``SO_REUSEPORT`` and this process supervises them.

``--workers N`` (default: the CPUs this process may run on) starts N processes, each importing the
app itself: one Python process is CPU-bound long before the machine is. Every worker gets SIGTERM and
SIGINT; they stop accepting, let Restate's SDK end in-flight attempts, and exit. When one worker dies on
its own the others are stopped and this process exits with that worker's exit code, as a single-process
service would.

``--identity-key publickeyv1_...`` (repeatable; or ``RESTATE_IDENTITY_KEYS``, ``RESTATE_SIGNING_PUBLIC_KEY``)
makes the port accept only requests restate-server signed with the matching private key: anything
else gets 401 before handler code runs (``/health`` stays open). ``--web-port N`` serves an app's
browser endpoints (``with_events``: the chat page, ``/events/<topic>``, the page's ingress proxy) on
their own port, in a child process of this one; the service port then serves Restate's endpoint only.
See docs/deploy.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import importlib
import importlib.util
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from multiprocessing.connection import wait as wait_for_sentinels
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from ._identity import IDENTITY_KEYS_ENV, IdentityKeyError, check_identity_keys, identity_keys_from_env
from ._parts import exposure_problem, is_loopback, service_part, web_part
from ._ports import port_open

__all__ = ["SERVERS", "TargetError", "choose_server", "default_workers", "load_target", "main"]

SERVERS = ("auto", "granian", "hypercorn")
"""``--server`` choices; ``auto`` is granian when it can be imported, else hypercorn."""

GRACEFUL_SECONDS = 1.0
"""How long a stopping worker waits for open streams before it is stopped anyway."""

_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_App = Callable[[_Scope, _Receive, _Send], Awaitable[None]]


class TargetError(ValueError):
    """A serve TARGET that cannot be loaded: the message is the one or two lines a user needs
    (file:line and the caret of a syntax error, the ``pip install`` of a missing extra, the names
    a module does define), not a traceback."""


# import name -> the extra that installs it
_EXTRAS = {"agents": "openai-agents", "openai": "openai-agents", "litellm": "litellm", "mcp": "mcp"}


def load_target(target: str) -> Any:
    """Import ``module:attr`` or ``file.py:attr`` (``file.py`` alone: its ``app``) and return the
    attribute; :class:`TargetError` says in a line what is wrong when it cannot."""
    location, _, attr = target.rpartition(":")
    if not location and target.endswith(".py"):
        location, attr = target, "app"
    if not location or not attr:
        raise TargetError(f"target must look like 'module:app' or 'path/file.py:app', got {target!r}")
    try:
        module = _import(location)
    except SyntaxError as error:
        raise TargetError(_syntax_error(error)) from error
    except ModuleNotFoundError as error:
        raise TargetError(_missing_module(location, error)) from error
    except ImportError as error:
        if "pip install" not in str(error):
            raise
        raise TargetError(f"{location}: {error}") from error
    try:
        return getattr(module, attr)
    except AttributeError:
        names = sorted(name for name in vars(module) if not name.startswith("_"))
        defined = [name for name in names if _is_app_like(getattr(module, name))] or names[:8]
        raise TargetError(
            f"{location} has no attribute {attr!r}"
            + (f"; it defines {', '.join(defined)} (TARGET is {location}:NAME)" if defined else "")
        ) from None


def _import(location: str) -> Any:
    if not location.endswith(".py"):
        return importlib.import_module(location)
    path = Path(location).resolve()
    if not path.exists():
        raise TargetError(f"{path} does not exist")
    name = "_served_" + "_".join(path.with_suffix("").parts[-3:]).replace("-", "_")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def _is_app_like(value: Any) -> bool:
    return callable(value) and not isinstance(value, type) and getattr(value, "__module__", "").startswith("restate")


def _syntax_error(error: SyntaxError) -> str:
    where = f"{error.filename}:{error.lineno}" if error.filename else "<target>"
    lines = [f"{where}: {type(error).__name__}: {error.msg}"]
    if error.text:
        text = error.text.rstrip("\n")
        stripped = text.lstrip()
        lines.append("    " + stripped)
        if error.offset:
            lines.append("    " + " " * max(0, error.offset - 1 - (len(text) - len(stripped))) + "^")
    return "\n".join(lines)


def _missing_module(location: str, error: ModuleNotFoundError) -> str:
    missing = (error.name or "").split(".")[0]
    extra = _EXTRAS.get(missing) or ("google-adk" if (error.name or "").startswith("google.adk") else None)
    if extra:
        return f"{location} imports {error.name}, which is not installed: pip install 'durable-agents-toolkit[{extra}]'"
    return f"{location} imports {error.name}, which is not installed (pip install it, or check the name)"


def default_workers() -> int:
    """The CPUs this process may run on (its affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def choose_server(name: str) -> str:
    """``granian`` or ``hypercorn`` for a ``--server`` value (``auto``: granian when importable)."""
    if name not in SERVERS:
        raise ValueError(f"--server must be one of {', '.join(SERVERS)}, got {name!r}")
    if name != "auto":
        return name
    return "granian" if importlib.util.find_spec("granian") is not None else "hypercorn"


_tracing: Any = None
"""This worker's tracing processor (``DURABLE_AGENTS_OTEL=1``), flushed when the worker stops."""


def _flush_tracing() -> None:
    """Export buffered spans now: a granian worker exits without running ``atexit`` hooks."""
    if _tracing is not None:
        with contextlib.suppress(Exception):  # a failing exporter must not keep the worker alive
            _tracing.shutdown()


_PLAN_ENV = "_DURABLE_AGENTS_SERVE_PLAN"
"""What this serve process serves (part, host, web port separate), for its workers: JSON."""


def _plan() -> dict[str, Any]:
    plan: dict[str, Any] = json.loads(os.environ.get(_PLAN_ENV) or "{}")
    return plan


def _select_part(app: Any) -> Any:
    """The part of ``app`` this process serves (see ``_parts``); exits 3 on an unsafe exposure."""
    plan = _plan()
    host = str(plan.get("host", "127.0.0.1"))
    web = web_part(app)
    if plan.get("part") == "web":
        problem = exposure_problem(web, host)
        if problem:
            _report_once(f"durable-agents serve: {problem}")
            sys.exit(3)
        if web is None:
            sys.exit(0)  # nothing to serve: the parent carries on without a web port
        if getattr(web, "access", None) is None:
            _report_once(
                f"note: the chat page and event streams on {host}:{plan.get('port')} let everyone read every chat "
                "and approve every pending call (no authorization hook; allowed on loopback only)",
                note=True,
            )
        return web
    keys = identity_keys_from_env()
    separate = bool(plan.get("web_port"))
    if not keys and not is_loopback(host):
        _report_once(
            f"warning: serving on {host} without identity keys: anyone who reaches this port can run handlers "
            "past Restate; pass --identity-key publickeyv1_... (see docs/deploy.md)"
        )
    if web is not None and not keys and not separate:
        problem = exposure_problem(web, host)
        if problem:
            _report_once(f"durable-agents serve: {problem}")
            sys.exit(3)
    elif web is not None and not separate:
        _report_once(
            "note: with identity keys the service port answers restate-server only; "
            "serve the chat page and event streams with --web-port",
            note=True,
        )
    return service_part(app, keys=keys, separate=separate)


def _prepare_app(target: str) -> Any:
    """What every worker does before it serves: logging, tracing, import the app, pick its part."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("LiteLLM").setLevel(logging.WARNING)  # it logs every completion at INFO
    from integrations.inputs import guard_every_app
    from integrations.tracing import enable_tracing_from_env

    global _tracing
    _tracing = enable_tracing_from_env()  # DURABLE_AGENTS_OTEL=1: replay-safe OpenTelemetry spans of the agents
    guard_every_app()  # bad request bodies get a 4xx, also in apps that do not call guard_inputs
    try:
        app = load_target(target)
    except TargetError as error:
        _report_once(f"durable-agents serve: {error}")
        sys.exit(3)
    litellm: Any = sys.modules.get("litellm")
    if litellm is not None:
        # LiteLLM prints a "Give Feedback / Get Help" banner to stdout on every provider error; in a
        # service whose retries are journaled (and whose stdout the launcher echoes) that is noise.
        # Set here, in the process the toolkit owns, not at import of the adapter.
        litellm.suppress_debug_info = True
    return _select_part(app)


_RUN_DIR_ENV = "_DURABLE_AGENTS_SERVE_RUN"
"""A folder of this serve process's own, inherited by its workers (see ``_report_once``)."""


def _report_once(message: str, *, note: bool = False) -> None:
    """Print ``message`` once per service, not once per worker: every worker imports the app, so
    every worker meets the same error (the first to claim a marker file prints it). Errors go to
    stderr; a ``note`` goes to stdout, which ``durable-agents up`` echoes to its terminal."""
    stream = sys.stdout if note else sys.stderr
    run_dir = os.environ.get(_RUN_DIR_ENV)
    if not run_dir:
        print(message, file=stream, flush=True)
        return
    marker = Path(run_dir) / f"reported-{hashlib.sha1(message.encode()).hexdigest()[:12]}"
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    except OSError:
        pass
    else:
        os.close(fd)
    print(message, file=stream, flush=True)


def _on_sigterm(loop: asyncio.AbstractEventLoop, hook: Callable[[], None]) -> None:
    """Run ``hook`` on SIGTERM next to the Restate app's own SIGTERM handler.

    The Restate app installs its SIGTERM handler on first use (to end in-flight attempts), which
    replaces whatever ``loop.add_signal_handler`` installed before; its hook registry lets both run.
    """
    try:
        from restate.server import install_shutdown_hook
    except ImportError:  # pragma: no cover - older SDK without the registry
        loop.add_signal_handler(signal.SIGTERM, hook)
        return
    install_shutdown_hook(loop, hook, signal.SIGTERM)


# -- hypercorn ---------------------------------------------------------------------------------------
async def _serve_hypercorn(app: Any, bind: str) -> None:
    from hypercorn.asyncio import serve
    from hypercorn.config import Config

    config = Config()
    config.bind = [bind]
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")  # through our logging config: no second handler
    config.graceful_timeout = GRACEFUL_SECONDS
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGINT, stop.set)
    _on_sigterm(loop, stop.set)
    await serve(app, config, shutdown_trigger=stop.wait)


def _reuse_port_socket(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` that other workers may bind too (the kernel spreads connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def _hypercorn_worker(target: str, host: str, port: int) -> None:
    # forked from the supervisor: drop its handlers, so a signal during the import stops this worker
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    app = _prepare_app(target)
    sock = _reuse_port_socket(host, port)  # bound once the app is imported: an open port means ready
    asyncio.run(_serve_hypercorn(app, f"fd://{sock.fileno()}"))


def _supervise(workers: Sequence[BaseProcess]) -> int:
    """Wait for a stop signal or a worker's own exit; stop them all; return the exit code."""
    stopping = False
    supervisor = os.getpid()

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        if os.getpid() != supervisor:  # a worker just forked, before it dropped this handler
            os._exit(128 + signum)
        stopping = True
        for worker in workers:
            if worker.is_alive() and worker.pid is not None:
                os.kill(worker.pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = 0
    try:
        for worker in workers:
            worker.start()
        by_sentinel = {worker.sentinel: worker for worker in workers}
        ready = wait_for_sentinels(list(by_sentinel))  # the first to exit, or all of them after a signal
        if not stopping:  # a worker exited on its own: the service is broken, stop the rest
            first = by_sentinel[ready[0]]  # type: ignore[index]
            first.join()  # its sentinel closes a moment before its exit status exists
            code = first.exitcode or 1
            stop(signal.SIGTERM, None)
    finally:
        for worker in workers:
            if worker.pid is None:
                continue
            worker.join(GRACEFUL_SECONDS + 5)
            if worker.is_alive():
                worker.kill()
                worker.join()
    return code


def serve_hypercorn(target: str, host: str, port: int, workers: int) -> int:
    if workers == 1:
        app = _prepare_app(target)
        asyncio.run(_serve_hypercorn(app, f"{host}:{port}"))
        return 0
    context = multiprocessing.get_context("fork")  # the parent has imported nothing of the app
    processes = [
        context.Process(target=_hypercorn_worker, args=(target, host, port), name=f"hypercorn-worker-{i + 1}")
        for i in range(workers)
    ]
    return _supervise(processes)


# -- granian -----------------------------------------------------------------------------------------
def _granian_app(target: str) -> _App:
    """Load the app in a granian worker, and let SIGTERM stop that worker as well as reach the app.

    Granian's worker stops on SIGINT or SIGTERM through ``loop.add_signal_handler``; the Restate app
    replaces the SIGTERM one on its first request. So on the first request, before the app's, SIGTERM
    is registered in the SDK's hook registry to send this worker SIGINT: both then run.
    """
    app = _prepare_app(target)
    glued = False

    def stop_worker() -> None:
        _flush_tracing()
        os.kill(os.getpid(), signal.SIGINT)

    async def served(scope: _Scope, receive: _Receive, send: _Send) -> None:
        nonlocal glued
        if not glued:
            glued = True
            # not the main thread (NotImplementedError, RuntimeError, ValueError): nothing to glue
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                _on_sigterm(asyncio.get_running_loop(), stop_worker)
        await app(scope, receive, send)

    return served


_GRANIAN_LOGGING = {
    # granian logs to stdout by default; the launcher echoes a service's stdout to the user's terminal
    "handlers": {
        "console": {"formatter": "generic", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
        "access": {"formatter": "access", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
    },
}


def serve_granian(target: str, host: str, port: int, workers: int) -> int:
    from granian.constants import HTTPModes, Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    exit_codes: list[int] = []

    class _Server(Server):  # type: ignore[misc, valid-type]
        def _stop_workers(self) -> None:
            # a worker that died on its own: remember its code, ours is the same (granian says 1)
            for worker in getattr(self, "wrks", []):
                code = getattr(getattr(worker, "inner", None), "exitcode", None)
                if code and not worker.interrupt_by_parent:
                    exit_codes.append(code)
            super()._stop_workers()

    server = _Server(
        target,
        address=host,
        port=port,
        interface=Interfaces.ASGINL,  # the Restate app implements no lifespan protocol
        http=HTTPModes.auto,  # Restate's HTTP/2 prior knowledge, and HTTP/1.1 for a curl to /health
        websockets=False,
        workers=workers,
        log_level=LogLevels.warning,
        log_dictconfig=_GRANIAN_LOGGING,
        workers_kill_timeout=max(1, int(GRACEFUL_SECONDS + 0.5)),
    )
    try:
        server.serve(target_loader=_granian_app)
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
        return (exit_codes[0] if exit_codes else code) if code else 0
    return exit_codes[0] if exit_codes else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9080)
    parser.add_argument("--workers", type=int, default=None, help="worker processes (default: the CPUs we may use)")
    parser.add_argument(
        "--server", choices=SERVERS, default="auto", help="HTTP/2 server (default: granian if installed)"
    )
    parser.add_argument(
        "--identity-key",
        action="append",
        default=[],
        metavar="publickeyv1_...",
        help=f"accept only requests signed by restate-server with this key (repeatable; also ${IDENTITY_KEYS_ENV})",
    )
    parser.add_argument(
        "--web-port", type=int, default=None, help="serve the chat page and event streams on this port, apart"
    )
    parser.add_argument("--part", choices=("service", "web"), default="service", help=argparse.SUPPRESS)
    return parser


def _start_web(args: argparse.Namespace) -> subprocess.Popen[bytes] | int | None:
    """The web part in a child process (its own server, one worker); its exit code if it failed;
    None if the app has no browser endpoints (the child exits 0 at once)."""
    web = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "integrations.runtime._serve_process",
            args.target,
            "--part",
            "web",
            "--host",
            args.host,
            "--port",
            str(args.web_port),
            "--workers",
            "1",
            "--server",
            "hypercorn",  # browsers speak HTTP/1.1; one worker keeps per-client limits exact
        ]
    )
    while not port_open(args.web_port):
        if web.poll() is not None:
            return web.returncode or None
        time.sleep(0.05)
    return web


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    workers = default_workers() if args.workers is None else args.workers
    if workers < 1:
        print(f"serve: --workers must be at least 1, got {workers}", file=sys.stderr, flush=True)
        return 2
    keys = list(dict.fromkeys([*args.identity_key, *identity_keys_from_env()]))
    try:
        if keys:
            check_identity_keys(keys)
    except IdentityKeyError as error:
        print(f"serve: {error}", file=sys.stderr, flush=True)
        return 2
    os.environ[IDENTITY_KEYS_ENV] = ",".join(keys)  # the workers read it
    os.environ[_PLAN_ENV] = json.dumps(
        {"part": args.part, "host": args.host, "port": args.port, "web_port": args.web_port}
    )
    server = choose_server(args.server)
    run_dir = os.environ.get(_RUN_DIR_ENV) if args.part == "web" else None
    run_dir = run_dir or tempfile.mkdtemp(prefix="durable-agents-serve-")
    os.environ[_RUN_DIR_ENV] = run_dir
    web: subprocess.Popen[bytes] | None = None
    try:
        if args.web_port is not None and args.part == "service":
            started = _start_web(args)
            if isinstance(started, int):
                return started
            web = started
        if server == "granian":
            return serve_granian(args.target, args.host, args.port, workers)
        return serve_hypercorn(args.target, args.host, args.port, workers)
    finally:
        if web is not None and web.poll() is None:
            web.terminate()
            try:
                web.wait(GRACEFUL_SECONDS + 5)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
        if args.part == "service":
            shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
