"""What serving one journal step costs, per HTTP/2 server: granian vs hypercorn, one worker each.

One invocation runs ``--steps`` empty ``ctx.run`` steps; every step is a round trip between the
service and restate-server over the invocation's HTTP/2 stream, so the difference between two
servers here is their HTTP/2 layer. Rounds alternate between the servers; figures are medians of
(time or service CPU) per step. This is how the serve command's default was chosen.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._proc import cpu_seconds, group_pids, load
from integrations.runtime import RestateServer, ServiceProcess

SERVERS = ("granian", "hypercorn")


@dataclass
class Served:
    server: str
    process: ServiceProcess
    per_step_ms: list[float] = field(default_factory=list)
    cpu_per_step_ms: list[float] = field(default_factory=list)


def run(*, steps: int, rounds: int, log_dir: Path) -> list[Served]:
    served: list[Served] = []
    with RestateServer(base_dir=log_dir / "restate-steps") as server:
        try:
            for name in SERVERS:
                process = ServiceProcess(
                    "bench/steps_app.py:app", server=name, workers=1, env={"BENCH_SERVICE": f"Steps{name.title()}"},
                    log_path=log_dir / f"service-steps-{name}.log",
                ).start()  # fmt: skip
                served.append(Served(name, process))
                server.register(process.uri)
            with httpx.Client(timeout=300) as client:

                def once(s: Served) -> tuple[float, float]:
                    assert s.process.pid is not None
                    pids = group_pids(s.process.pid)
                    cpu = cpu_seconds(pids)
                    start = time.perf_counter()
                    response = client.post(f"{server.ingress_url}/Steps{s.server.title()}/steps", json=steps)
                    elapsed = time.perf_counter() - start
                    if response.status_code != 200 or response.json() != steps:
                        raise RuntimeError(f"steps on {s.server} failed: {response.status_code} {response.text}")
                    return elapsed, cpu_seconds(pids) - cpu

                for s in served:
                    once(s)  # warm up
                for round_ in range(rounds):
                    for s in served if round_ % 2 == 0 else served[::-1]:
                        elapsed, cpu = once(s)
                        s.per_step_ms.append(elapsed * 1000 / steps)
                        s.cpu_per_step_ms.append(cpu * 1000 / steps)
        finally:
            for s in served:
                s.process.stop()
    return served


def report(served: list[Served], steps: int) -> None:
    print(f"serving one journal step ({steps} empty ctx.run steps per invocation, one worker each; {load()}):")
    for s in served:
        print(
            f"  {s.server:<10} {statistics.median(s.per_step_ms):.2f} ms per step (median of {len(s.per_step_ms)}), "
            f"service CPU {statistics.median(s.cpu_per_step_ms):.2f} ms per step"
        )
    if len(served) == 2:
        a, b = served
        print(
            f"  {b.server} - {a.server}: {statistics.median(b.per_step_ms) - statistics.median(a.per_step_ms):+.2f} ms per step, "
            f"service CPU {statistics.median(b.cpu_per_step_ms) - statistics.median(a.cpu_per_step_ms):+.2f} ms per step",
            flush=True,
        )
