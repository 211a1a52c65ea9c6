"""Start restate-server and an agent app, register it, and say how to call it.

    python -m integrations.runtime.launch quickstart            # serve until Ctrl-C
    python -m integrations.runtime.launch quickstart --demo     # one request, print, exit
    python -m integrations.runtime.launch patterns

Without OPENAI_API_KEY an offline scripted model answers (announced loudly), so the
model -> tool -> model loop still runs for real through restate-server.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from ._binary import REPO_ROOT
from ._client import Ingress
from ._ports import port_open
from ._server import RestateServer
from ._service import ServiceProcess
from .serve import load_target


@dataclass(frozen=True)
class AppSpec:
    target: str
    offline_responder: str | None
    example_curl: str
    demo_service: str
    demo_handler: str
    demo_payload: object


APPS = {
    "quickstart": AppSpec(
        target="agents/quickstart/agent.py:app",
        offline_responder="agents/quickstart/offline_model.py:responder",
        example_curl="""curl localhost:{ingress}/agent/run --json '"What is the weather in Detroit?"'""",
        demo_service="agent",
        demo_handler="run",
        demo_payload="What is the weather in Detroit?",
    ),
    "patterns": AppSpec(
        target="patterns.app:app",
        offline_responder="patterns/offline.py:responder",
        example_curl="""curl localhost:{ingress}/CallChainingService/process --json '{{}}'""",
        demo_service="CallChainingService",
        demo_handler="process",
        demo_payload={},
    ),
}


def _banner(lines: list[str]) -> None:
    width = max(len(line) for line in lines)
    print("=" * width)
    for line in lines:
        print(line)
    print("=" * width, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("app", nargs="?", default="quickstart", choices=sorted(APPS))
    parser.add_argument("--demo", action="store_true", help="send one example request, print the answer, exit")
    parser.add_argument("--ingress-port", type=int, default=8080)
    parser.add_argument("--admin-port", type=int, default=9070)
    parser.add_argument("--service-port", type=int, default=9080)
    parser.add_argument("--data-dir", default=str(REPO_ROOT / ".restate"), help="journal and state survive restarts")
    args = parser.parse_args(argv)
    spec = APPS[args.app]

    for port in (args.ingress_port, args.admin_port, args.service_port):
        if port_open(port):
            print(f"port {port} is already in use (another restate-server or service?); "
                  "stop it or pass --ingress-port/--admin-port/--service-port", file=sys.stderr)
            return 2

    env = {"OPENAI_AGENTS_DISABLE_TRACING": os.environ.get("OPENAI_AGENTS_DISABLE_TRACING", "1"),
           "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    model_server = None
    if not os.environ.get("OPENAI_API_KEY") and spec.offline_responder:
        from integrations.testing import ScriptedModelServer

        model_server = ScriptedModelServer(load_target(spec.offline_responder)).start()
        env.update(model_server.client_env())
        env["WEATHER_OFFLINE"] = "1"
        _banner([
            "OFFLINE MODE: OPENAI_API_KEY is not set, so a scripted offline model answers.",
            f"It runs at {model_server.base_url}; answers are canned, weather data is sample data.",
            "Set OPENAI_API_KEY (and optionally AGENT_MODEL / LLM_MODEL) to use a real model.",
        ])

    data_dir = Path(args.data_dir)
    server = RestateServer(base_dir=data_dir, ingress_port=args.ingress_port, admin_port=args.admin_port)
    service = ServiceProcess(spec.target, port=args.service_port, env=env, log_path=data_dir / "service.log")
    print(f"starting restate-server (data in {data_dir}) ...", flush=True)
    server.start()
    try:
        print(f"starting {spec.target} on :{args.service_port} ...", flush=True)
        service.start()
        registered = server.register(service.uri)
        names = ", ".join(s["name"] for s in registered["services"])
        ingress = f"http://localhost:{args.ingress_port}"
        _banner([
            f"Registered services: {names}",
            f"Call it:   {spec.example_curl.format(ingress=args.ingress_port)}",
            f"UI:        http://localhost:{args.admin_port}",
            f"Logs:      server {server.log_path}, service {service.log_path}",
        ])
        if args.demo:
            print(f"demo request -> {spec.demo_service}/{spec.demo_handler}: {spec.demo_payload!r}", flush=True)
            answer = Ingress(ingress).call(spec.demo_service, spec.demo_handler, spec.demo_payload)
            print(f"answer: {answer}", flush=True)
            return 0
        print("Serving. Press Ctrl-C to stop (the journal in the data dir survives restarts).", flush=True)
        stop = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):  # explicit: a parent may have left SIGINT ignored
            signal.signal(sig, lambda *_: stop.set())
        stop.wait()
        print("stopping ...", flush=True)
        return 0
    finally:
        service.stop()
        server.stop()
        if model_server is not None:
            model_server.stop()


if __name__ == "__main__":
    sys.exit(main())
