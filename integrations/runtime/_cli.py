"""``durable-agents``: serve a Restate agent app, with or without starting restate-server.

    durable-agents up TARGET [--ingress-port 8080] [--admin-port 9070] [--service-port 9080]
                             [--data-dir .restate] [--demo] [--workers N] [--server auto|granian|hypercorn]
                             [--web-port N] [--no-identity]
    durable-agents serve TARGET [--port 9080] [--workers N] [--server auto|granian|hypercorn]
                                [--host 127.0.0.1] [--identity-key publickeyv1_...] [--web-port N]
    durable-agents output ID [--ingress-port 8080] [--wait]
    durable-agents pending [--ingress-port 8080] [--admin-port 9070]
    durable-agents docs [TOPIC] [--path]

``up`` starts restate-server (or uses the one already answering on the ingress and admin ports),
serves TARGET in its own process, registers it, prints how to call it and where the UI is, and stays
in the foreground until Ctrl-C. ``serve`` only serves TARGET, for a restate-server you run yourself.
TARGET is ``path/to/file.py:app``, ``package.module:app``, a folder holding a ``launch.toml``, or an
app name (see :mod:`integrations.runtime._launch_spec`), resolved from the current directory.
The app is served by ``--workers`` processes (default: one per CPU) on one port, over HTTP/2 by
granian (``--server hypercorn`` for the pure-Python fallback); see :mod:`integrations.runtime.serve`.

Without ``OPENAI_API_KEY``, ``up`` answers with a scripted offline model (the app's
``offline_responder``, else the generic one; announced in a banner). While it runs, ``up`` prints
every wait of a request (:mod:`integrations.runtime._watch`). ``durable-agents output ID`` prints the
answer of a request whose caller is gone, ``pending`` lists open approvals, ``docs`` prints the
shipped guides. ``./dev up|serve NAME`` run this same code.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from .. import settings
from ..awakeables import INGRESS_URL_ENV
from ._client import Ingress, IngressError
from ._docs import DocsError, guide, guides
from ._identity import SERVER_KEY_FILE_ENV, ensure_signing_key, identity_keys_from_env
from ._launch_spec import LaunchError, LaunchSpec, resolve_target
from ._new import TEMPLATES, NewProjectError, new_project
from ._ports import free_port, port_open
from ._server import RestateServer
from ._service import ServiceProcess
from ._watch import InvocationWatcher, fetch_output, find_open_approvals
from .serve import SERVERS

__all__ = ["main", "serve", "up"]

PROCESS_ENV_DEFAULTS = {
    # LiteLLM would fetch its price map from the network at import; every process we start uses the
    # bundled one unless the user chose otherwise (documented in the README).
    "LITELLM_LOCAL_MODEL_COST_MAP": "True",
}

_MAX_HINTS = 20


def _print(line: str = "") -> None:
    """One write per line, flushed: the watcher and the service's echo print from other threads."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _banner(lines: list[str]) -> None:
    width = min(max((len(line) for line in lines), default=0), 120)
    _print("=" * width)
    for line in lines:
        _print(line)
    _print("=" * width)


def _fill(text: str, ingress_port: int, service_port: int = 9080, web_port: int | None = None) -> str:
    """Put the ports into a launch.toml line: ``{ingress}``, ``{service}`` and ``{web}`` (the chat
    page's port; the service port when the page is not served apart). str.replace: JSON has braces."""
    web = service_port if web_port is None else web_port
    for name, value in (("{ingress}", ingress_port), ("{service}", service_port), ("{web}", web)):
        text = text.replace(name, str(value))
    return text


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _handle_stop_signals() -> None:
    """Ctrl-C and SIGTERM stop us cleanly, even when SIGINT was inherited as ignored (a background job)."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupt)


@contextmanager
def _offline_model(spec: LaunchSpec, *, generic: bool = True) -> Iterator[dict[str, str]]:
    """Start a scripted offline model when no real one is configured; yield the service env for it.

    The app's own ``offline_responder`` if its ``launch.toml`` names one, else (``generic``: ``up``,
    the local stack) the generic :func:`~integrations.testing.offline_model`, so any app answers
    offline out of the box. ``serve`` (which may face production traffic) never invents answers:
    without a responder it says that model calls will fail until a key is set.
    """
    if os.environ.get("OPENAI_API_KEY"):
        yield {}
        return
    if not spec.offline_responder and not generic:
        _print(
            "note: OPENAI_API_KEY is not set: OpenAI model calls will fail (at once, naming it) until it is set; "
            "`durable-agents up` serves an offline model instead"
        )
        yield {}
        return
    from ..testing import ScriptedModelServer, offline_model
    from .serve import load_target

    responder = load_target(spec.offline_responder) if spec.offline_responder else offline_model
    with ScriptedModelServer(responder) as model:
        if spec.offline_responder:
            what = [
                "OFFLINE MODE: OPENAI_API_KEY is not set, so a scripted offline model answers.",
                f"It runs at {model.base_url}; its answers are canned, and sample data is labelled as such.",
            ]
        else:
            what = [
                "OFFLINE MODE: OPENAI_API_KEY is not set and the app names no offline_responder, so the",
                "generic offline model answers: it calls the agent's tools with sample arguments, then",
                f"reports what they returned; each answer starts with [offline model]. ({model.base_url})",
            ]
        _banner(
            [*what, "Set OPENAI_API_KEY (OPENAI_BASE_URL for another OpenAI-compatible endpoint) to use a real model."]
        )
        env = {
            name: value
            for name, value in model.client_env().items()
            if name not in _USER_SETTINGS or name not in os.environ
        }
        yield {**env, **spec.offline_env}


_USER_SETTINGS = ("LITELLM_LOCAL_MODEL_COST_MAP", "OPENAI_AGENTS_DISABLE_TRACING")
"""Settings the offline model's env has an opinion on, which the user's own environment overrides."""


def _service_env(spec: LaunchSpec, offline_env: dict[str, str], ingress_port: int) -> dict[str, str]:
    return {
        "OPENAI_AGENTS_DISABLE_TRACING": os.environ.get("OPENAI_AGENTS_DISABLE_TRACING", "1"),
        INGRESS_URL_ENV: settings.INGRESS_URL.raw() or f"http://localhost:{ingress_port}",
        **spec.env,
        **offline_env,
    }


def _call_hints(registered: dict[str, Any], ingress_port: int) -> list[str]:
    """``curl`` lines for every registered handler, for apps without examples in a launch.toml."""
    hints = []
    for service in registered.get("services", []):
        keyed = service.get("ty") in ("VirtualObject", "Workflow")
        for handler in service.get("handlers", []):
            path = f"{service['name']}/<key>/{handler['name']}" if keyed else f"{service['name']}/{handler['name']}"
            hints.append(f"  curl localhost:{ingress_port}/{path} --json '<input as JSON>'")
    if len(hints) > _MAX_HINTS:
        hints = [*hints[:_MAX_HINTS], f"  ... and {len(hints) - _MAX_HINTS} more (see the UI)"]
    return ["Call a handler:", *hints] if hints else []


def _example_lines(spec: LaunchSpec, ingress_port: int) -> list[str]:
    lines = []
    for example in spec.examples:
        curl = _fill(example.curl, ingress_port)
        lines += [f"{example.title}:", f"  {curl}"] if example.title else [f"Call it:  {curl}"]
    return lines


def _wait_while_running(service: ServiceProcess) -> int:
    """Block until Ctrl-C/SIGTERM (exit 0) or until the service dies on its own (exit 1)."""
    stop = threading.Event()
    try:
        while not stop.wait(0.5):
            if not service.running:
                where = f"; log: {service.log_path}" if service.log_path else ""
                print(f"the service exited with code {service.returncode}{where}", file=sys.stderr, flush=True)
                return 1
    except KeyboardInterrupt:
        _print("stopping ...")
    return 0


def _log_tail(path: Path | None, lines: int = 30) -> str:
    if path is None or not path.exists():
        return ""
    tail = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return "\n".join(tail)


def _port_problem(server: RestateServer, service_port: int, *, reuse: bool) -> str | None:
    """Why ``up`` cannot run on these ports, or None. With ``reuse`` only the service port must be free."""
    server_ports = [(server.ingress_port, "ingress", "--ingress-port"), (server.admin_port, "admin", "--admin-port")]
    for port, what, flag in [] if reuse else server_ports:
        if not port_open(port):
            continue
        info = server.version_info()
        if info is not None:
            return (
                f"a restate-server {info.get('version', '')} answers on admin port {server.admin_port}, but its "
                f"ingress is {info.get('ingress_endpoint', '?')}, not port {server.ingress_port}; "
                "pass its ports with --ingress-port/--admin-port"
            )
        return (
            f"port {port} ({what}) is already in use by something that is not a restate-server; stop it or pass {flag}"
        )
    if port_open(service_port):
        return f"port {service_port} (service) is already in use; stop what holds it or pass --service-port"
    return None


def up(
    spec: LaunchSpec,
    *,
    ingress_port: int = 8080,
    admin_port: int = 9070,
    service_port: int = 9080,
    data_dir: str | Path = ".restate",
    demo: bool = False,
    cwd: str | Path | None = None,
    workers: int | None = None,
    server_kind: str = "auto",
    identity: bool = True,
    web_port: int | None = None,
) -> int:
    """Serve ``spec`` on a restate-server (started here, or already running), register it, wait for Ctrl-C.

    ``identity`` (on unless ``--no-identity``): a restate-server started here signs its requests with
    a key kept in the data dir, and the service answers only signed requests. The app's browser
    endpoints (chat page, event streams) are served apart on ``web_port`` (default: the service
    port + 1 if free, else any free port).
    """
    if demo and spec.demo is None:  # said before anything starts
        print(f"durable-agents: {spec.label} has no [demo] in a launch.toml", file=sys.stderr, flush=True)
        return 2
    cwd = Path(cwd or Path.cwd()).resolve()
    data_dir = (cwd / data_dir).resolve()
    server = RestateServer(base_dir=data_dir, ingress_port=ingress_port, admin_port=admin_port)
    reuse = server.answering()
    problem = _port_problem(server, service_port, reuse=reuse)
    if problem is None and web_port is not None and port_open(web_port):
        problem = f"port {web_port} (web) is already in use; stop what holds it or pass --web-port"
    if problem:
        print(f"durable-agents: {problem}", file=sys.stderr, flush=True)
        return 2
    if web_port is None:
        web_port = service_port + 1 if not port_open(service_port + 1) else free_port()
    _handle_stop_signals()
    data_dir.mkdir(parents=True, exist_ok=True)
    identity_keys: list[str] = []
    security: list[str] = []
    if identity and not reuse:
        key_file = data_dir / "request-identity.pem"
        identity_keys = [ensure_signing_key(key_file)]
        server.extra_env[SERVER_KEY_FILE_ENV] = str(key_file)
        security.append(
            f"Signed: :{service_port} answers only this restate-server (key {key_file}; --no-identity: off)"
        )
    with _offline_model(spec) as offline_env:
        registered_id: str | None = None
        watcher: InvocationWatcher | None = None
        service = ServiceProcess(
            spec.target,
            port=service_port,
            env=_service_env(spec, offline_env, ingress_port),
            log_path=data_dir / "service.log",
            cwd=cwd,
            echo=True,
            workers=workers,
            server=server_kind,
            identity_keys=identity_keys,
            web_port=web_port,
        )
        try:
            if reuse:
                info = server.version_info() or {}
                _print(
                    f"using the restate-server {info.get('version', '')} already running on "
                    f":{ingress_port} (ingress) and :{admin_port} (admin)"
                )
            else:
                _print(f"starting restate-server (data in {data_dir}) ...")
                server.start()
            _print(f"starting {spec.label} on :{service_port} ...")
            try:
                service.start()
            except RuntimeError as err:
                tail = _log_tail(service.log_path)
                raise RuntimeError(f"{err}\n{tail}" if tail else str(err)) from err
            registered = server.register(service.uri)
            registered_id = registered.get("id")
            if port_open(web_port):  # the app has browser endpoints: served apart, on their own port
                web = f"Web:    http://localhost:{web_port}/chat/ and /events/<topic> (apart from :{service_port})"
                security.insert(0, web)
            names = ", ".join(s["name"] for s in registered.get("services", []))
            examples = _example_lines(spec, ingress_port) or _call_hints(registered, ingress_port)
            logs = f"service {service.log_path}" + ("" if reuse else f", server {server.log_path}")
            _banner(
                [
                    *(_fill(line, ingress_port, service_port, web_port) for line in spec.banner),
                    f"Registered services: {names}",
                    *examples,
                    f"UI:     http://localhost:{admin_port}",
                    *security,
                    f"Logs:   {logs}",
                ]
            )
            watcher = InvocationWatcher(
                server.admin_url,
                server.ingress_url,
                [s["name"] for s in registered.get("services", [])],
                _print,
                ingress=_user_ingress(ingress_port),
                output_hint=_output_command(ingress_port),
            ).start()
            if demo:
                return _demo(spec, ingress_port)
            _print(
                "Serving. Press Ctrl-C to stop (the journal in the data dir survives restarts). Waits, retries and "
                "answers of requests show here, prefixed [Service/handler invocation-id]."
            )
            return _wait_while_running(service)
        finally:
            if watcher is not None:
                watcher.stop()
                _say_in_flight(watcher, ingress_port)
            service.stop()
            if not reuse:
                server.stop()
            elif registered_id is not None:
                _print(
                    f"the deployment {registered_id} stays registered on the restate-server at :{admin_port}, so "
                    "invocations still in flight resume when you serve the app again; to remove it: "
                    f"curl -X DELETE 'localhost:{admin_port}/deployments/{registered_id}?force=true'"
                )


def _user_ingress(ingress_port: int) -> str:
    """The ingress as the user (and the commands we print) reach it."""
    return settings.INGRESS_URL.raw() or f"http://localhost:{ingress_port}"


def _output_command(ingress_port: int) -> str:
    return "durable-agents output" + ("" if ingress_port == 8080 else f" --ingress-port {ingress_port}")


def _say_in_flight(watcher: InvocationWatcher, ingress_port: int) -> None:
    """What stopping leaves unfinished, and how to get its answer later."""
    waiting = watcher.in_flight()
    if not waiting:
        return
    _print(
        f"{len(waiting)} request(s) still in flight: they resume when the app is served again "
        f"(a caller's connection may be cut); then `{_output_command(ingress_port)} ID` prints the answer:"
    )
    for invocation, status in waiting[:_MAX_HINTS]:
        _print(f"  {invocation} ({status})")


def _demo(spec: LaunchSpec, ingress_port: int) -> int:
    if spec.demo is None:
        print(f"durable-agents: {spec.label} has no [demo] in a launch.toml", file=sys.stderr, flush=True)
        return 2
    demo = spec.demo
    key = f"{demo.key}/" if demo.key else ""
    _print(f"demo request -> {demo.service}/{key}{demo.handler}: {json.dumps(demo.payload, ensure_ascii=False)}")
    ingress = Ingress(f"http://127.0.0.1:{ingress_port}")
    try:
        answer = ingress.call(demo.service, demo.handler, demo.payload, key=demo.key)
    except IngressError as err:
        print(f"durable-agents: the demo request failed: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        ingress.close()
    _print(f"answer: {answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)}")
    return 0


def serve(
    spec: LaunchSpec,
    *,
    port: int = 9080,
    cwd: str | Path | None = None,
    workers: int | None = None,
    server_kind: str = "auto",
    identity_keys: list[str] | None = None,
    web_port: int | None = None,
    host: str = "127.0.0.1",
) -> int:
    """Serve ``spec`` on ``port`` for a restate-server run by the user; print how to register it.

    ``identity_keys`` (``--identity-key``, or ``RESTATE_IDENTITY_KEYS`` in the environment): only
    requests signed with one of them are answered. ``web_port``: the browser endpoints apart.
    ``host``: the address to listen on; a non-loopback one needs an authorization hook for the
    browser endpoints (the serve process refuses to start without it).
    """
    if port_open(port):
        print(
            f"durable-agents: port {port} is already in use; stop what holds it or pass --port",
            file=sys.stderr,
            flush=True,
        )
        return 2
    _handle_stop_signals()
    with _offline_model(spec, generic=False) as offline_env:
        # No log file: the app's logging goes straight to this terminal, its stdout is echoed.
        service = ServiceProcess(
            spec.target,
            port=port,
            env=_service_env(spec, offline_env, 8080),
            cwd=cwd,
            echo=True,
            echo_prefix="",
            workers=workers,
            server=server_kind,
            identity_keys=identity_keys or [],
            web_port=web_port,
            host=host,
        )
        try:
            _print(f"starting {spec.label} on :{port} ...")
            service.start()
            uri = f"http://localhost:{port}"
            signed = identity_keys or identity_keys_from_env()
            web_served = web_port is not None and port_open(web_port)  # the app has browser endpoints
            _banner(
                [
                    f"Serving {spec.label} at {uri} (no restate-server started).",
                    *(["Only requests signed with the identity key(s) are answered."] if signed else []),
                    *([f"Web:    http://localhost:{web_port}/chat/ and /events/<topic>"] if web_served else []),
                    "Register it with your restate-server:",
                    f"  restate deployments register {uri}",
                    f'  curl localhost:9070/deployments --json \'{{"uri": "{uri}"}}\'',
                    *_example_lines(spec, 8080),
                    *(_fill(line, 8080, port, web_port) for line in spec.banner),
                ]
            )
            return _wait_while_running(service)
        finally:
            service.stop()


DESCRIPTION = """\
Serve a Restate agent app, with or without starting restate-server.

  durable-agents new NAME       create a project: a runnable agent, its launch.toml, a test, a README
  durable-agents up TARGET      start restate-server (or use the one already running), serve TARGET,
                                register it, print how to call it, stay in the foreground until Ctrl-C
  durable-agents serve TARGET   serve TARGET only, for a restate-server you run yourself
  durable-agents output ID      print the answer of a request (its connection was cut, or it was a /send)
  durable-agents pending        list the approvals requests wait for, with the commands to resolve/reject
  durable-agents docs [TOPIC]   print a guide shipped with the toolkit (without TOPIC: the list)

TARGET is path/to/file.py:app (path/to/file.py alone: its `app`), package.module:app, a folder
holding a launch.toml, or an app name, resolved from the current directory.

Without OPENAI_API_KEY, `up` answers with a scripted offline model: the app's offline_responder
(launch.toml), else a generic one that calls the agent's tools (the banner says so). `up` prints
every wait of a request, one line each prefixed [Service/handler invocation-id]: retries, approvals
(with the resolve and reject commands), completions, failures. Bad request bodies get a 4xx before
any handler code runs (DURABLE_AGENTS_GUARD_INPUTS=0 turns that off).

up signs its restate-server's requests and the service answers only signed ones (--no-identity:
off); serve does so with --identity-key or RESTATE_IDENTITY_KEYS. The chat page and event streams
of a with_events app are served apart on --web-port. See docs/deploy.md.
"""


def build_parser(prog: str = "durable-agents") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="{new,up,serve,output,pending,docs}")
    new_parser = commands.add_parser("new", help="create a project folder: a runnable agent, its launch.toml, a test")
    new_parser.add_argument("name", metavar="NAME", help="the folder to create (my-agent: service MyAgent)")
    new_parser.add_argument(
        "--template",
        choices=list(TEMPLATES),
        default="agent",
        help="; ".join(f"{name}: {what}" for name, what in TEMPLATES.items()),
    )
    target_help = "path/to/file.py:app, package.module:app, a folder with a launch.toml (default: .), or an app name"
    up_parser = commands.add_parser("up", help="start restate-server, serve TARGET, register it, wait for Ctrl-C")
    up_parser.add_argument("target", metavar="TARGET", nargs="?", default=".", help=target_help)
    up_parser.add_argument("--ingress-port", type=int, default=8080)
    up_parser.add_argument("--admin-port", type=int, default=9070, help="admin API and UI")
    up_parser.add_argument("--service-port", type=int, default=9080)
    up_parser.add_argument("--data-dir", default=".restate", help="journal and state; survives restarts")
    up_parser.add_argument("--demo", action="store_true", help="send the app's demo request, print the answer, exit")
    up_parser.add_argument(
        "--no-identity",
        action="store_true",
        help="do not sign requests: the service port then answers anyone who can reach it",
    )
    serve_parser = commands.add_parser("serve", help="serve TARGET only, for a restate-server you run yourself")
    serve_parser.add_argument("target", metavar="TARGET", nargs="?", default=".", help=target_help)
    serve_parser.add_argument("--port", type=int, default=9080)
    serve_parser.add_argument(
        "--host", default="127.0.0.1", help="listen address; a non-loopback one needs an authorization hook"
    )
    serve_parser.add_argument(
        "--identity-key",
        action="append",
        default=[],
        metavar="publickeyv1_...",
        help="answer only requests restate-server signed with this key (repeatable; or $RESTATE_IDENTITY_KEYS)",
    )
    output_parser = commands.add_parser(
        "output", help="print the answer of a request by its invocation id (after a cut connection, a /send)"
    )
    output_parser.add_argument("invocation_id", metavar="ID", help="inv_..., as up prints it or /send returned it")
    output_parser.add_argument("--ingress-port", type=int, default=8080)
    output_parser.add_argument("--wait", action="store_true", help="wait until it completes")
    docs_parser = commands.add_parser("docs", help="list the shipped guides, or print one (docs patterns)")
    docs_parser.add_argument("topic", metavar="TOPIC", nargs="?", help="patterns, errors, replay, limits, ...")
    docs_parser.add_argument("--path", action="store_true", help="print where the guide is instead of its text")
    pending_parser = commands.add_parser("pending", help="list the approvals (awakeables) requests wait for")
    pending_parser.add_argument("--ingress-port", type=int, default=8080)
    pending_parser.add_argument("--admin-port", type=int, default=9070)
    for command in (up_parser, serve_parser):
        command.add_argument(
            "--web-port",
            type=int,
            default=None,
            help="serve the chat page and event streams on this port, apart from the service (up: service port + 1)",
        )
        command.add_argument(
            "--workers",
            type=_positive,
            default=None,
            help="service worker processes on one port (default: one per CPU)",
        )
        command.add_argument(
            "--server",
            choices=SERVERS,
            default="auto",
            help="HTTP/2 server (default: granian if installed, else hypercorn)",
        )
    return parser


def _new(name: str, template: str) -> int:
    try:
        folder = new_project(name, template=template)
    except NewProjectError as err:
        print(f"durable-agents: error: {err}", file=sys.stderr, flush=True)
        return 2
    _print(f"created {folder} ({template}): agent.py, launch.toml, test_agent.py, README.md, pyproject.toml")
    _print(f"  cd {name}")
    _print("  durable-agents up      # offline until OPENAI_API_KEY is set; the banner shows how to call it")
    _print("  pytest                 # its tests, against a real restate-server")
    return 0


def _output(invocation_id: str, ingress_port: int, *, wait: bool) -> int:
    """Print the answer of an invocation whose caller is gone (a cut connection, a ``/send``)."""
    url = f"http://127.0.0.1:{ingress_port}"
    try:
        response = fetch_output(url, invocation_id, wait=wait, timeout=None if wait else 30)
    except httpx.HTTPError:
        return _fail(
            f"no restate-server answers on port {ingress_port}; start it (durable-agents up) or pass --ingress-port"
        )
    if response.status_code < 300:
        try:
            answer = response.json()
        except ValueError:
            answer = response.text
        _print(answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False, indent=2))
        return 0
    message = IngressError(response.status_code, response.text).message
    if response.status_code == 470:
        return _fail(
            f"{invocation_id} has not completed yet; `durable-agents output {invocation_id} --wait` waits for it"
        )
    if response.headers.get("x-restate-error-source") == "invocation":
        return _fail(f"{invocation_id} failed: [{response.status_code}] {message}")
    if response.status_code == 404:
        return _fail(
            f"no invocation {invocation_id} on the restate-server at port {ingress_port} "
            "(answers are kept for a day by default)"
        )
    return _fail(f"{invocation_id}: {message}")


def _pending(ingress_port: int, admin_port: int) -> int:
    """List every awakeable an invocation waits for, with the commands that answer it."""
    client = httpx.Client(timeout=15)

    def query(sql: str) -> list[dict[str, Any]]:
        response = client.post(
            f"http://127.0.0.1:{admin_port}/query", json={"query": sql}, headers={"accept": "application/json"}
        )
        response.raise_for_status()
        return list(response.json()["rows"])

    try:
        approvals = find_open_approvals(query, _user_ingress(ingress_port))
    except httpx.HTTPError:
        return _fail(f"no restate-server admin API answers on port {admin_port}; pass --admin-port")
    finally:
        client.close()
    if not approvals:
        _print("no open approvals")
        return 0
    for approval in approvals:
        for line in approval.lines(f"[{approval.label} {approval.invocation_id}]"):
            _print(line)
    return 0


def _docs(topic: str | None, *, path_only: bool) -> int:
    if topic is None:
        _print("Guides shipped with the toolkit (durable-agents docs TOPIC prints one, --path says where it is):")
        for name, title in guides().items():
            _print(f"  {name:<14} {title}")
        return 0
    try:
        entry = guide(topic)
    except DocsError as err:
        return _fail(str(err))
    _print(str(entry) if path_only else entry.read_text(encoding="utf-8"))
    return 0


def _fail(message: str) -> int:
    print(f"durable-agents: {message}", file=sys.stderr, flush=True)
    return 1


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``durable-agents`` console command (and ``./dev up|serve``)."""
    args = build_parser().parse_args(argv)
    for name, value in PROCESS_ENV_DEFAULTS.items():
        os.environ.setdefault(name, value)
    if args.command == "new":
        return _new(args.name, args.template)
    if args.command == "docs":
        return _docs(args.topic, path_only=args.path)
    if args.command == "output":
        return _output(args.invocation_id, args.ingress_port, wait=args.wait)
    if args.command == "pending":
        return _pending(args.ingress_port, args.admin_port)
    try:
        spec = resolve_target(args.target)
        if args.command == "up":
            return up(
                spec,
                ingress_port=args.ingress_port,
                admin_port=args.admin_port,
                service_port=args.service_port,
                data_dir=args.data_dir,
                demo=args.demo,
                workers=args.workers,
                server_kind=args.server,
                identity=not args.no_identity,
                web_port=args.web_port,
            )
        return serve(
            spec,
            port=args.port,
            workers=args.workers,
            server_kind=args.server,
            identity_keys=args.identity_key,
            web_port=args.web_port,
            host=args.host,
        )
    except KeyboardInterrupt:
        return 130
    except (LaunchError, RuntimeError, TimeoutError, OSError) as err:
        print(f"durable-agents: error: {err}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(main())
