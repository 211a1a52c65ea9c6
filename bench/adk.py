"""The ADK comparison (``./dev bench --parts adk``): one 3-tool ADK agent through this toolkit's
``integrations.google_adk``, the restate-sdk's ``restate.ext.adk``, and plain ADK.

Each variant is its own served app (``bench/adk_*.py``) started by the serve command, against one
scripted model server whose every reply takes 100 ms (4 model calls per run). The durable variants
are Virtual Objects and every run uses a new key, so each run starts a new session. Measured in one
run, rounds interleaved, so the machine's speed and load cancel out of the ratios:

- sequential latency: one run at a time (median);
- journal: entries and bytes one run leaves in the server's ``sys_journal``;
- model requests per run (a durable variant that re-paid a model call would show more than 4).
"""

from __future__ import annotations

import asyncio
import statistics
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._agent_common import MODEL_LATENCY, TOOL_SCRIPT, last_journal, scripted_reply, serving, timed_run
from bench._proc import load
from integrations.runtime import RestateServer, ServiceProcess
from integrations.runtime.serve import choose_server, default_workers
from integrations.testing import ScriptedModelServer

TARGET_VS_PLAIN = 1.15
TARGET_VS_PEER = 1.05


@dataclass
class Variant:
    name: str
    target: str
    service: str | None  # the Restate Virtual Object; None: a plain HTTP app called directly
    process: ServiceProcess | None = None
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    journal: tuple[int, int] | None = None
    requests_per_run: float = 0.0


def _variants() -> list[Variant]:
    return [
        Variant("ours", "bench/adk_ours.py:app", "BenchAdkOurs"),
        Variant("peer (restate.ext.adk)", "bench/adk_peer.py:app", "BenchAdkPeer"),
        Variant("plain ADK", "bench/adk_plain.py:app", None),
    ]


async def _run_once(client: httpx.AsyncClient, variant: Variant, ingress: str) -> tuple[float, bool]:
    if variant.service is None:
        assert variant.process is not None
        return await timed_run(client, f"{variant.process.uri}/run")
    return await timed_run(client, f"{ingress}/{variant.service}/{uuid.uuid4().hex}/run")


def run(*, rounds: int, log_dir: Path, server_kind: str, workers: int | None) -> list[Variant]:
    """Start everything, measure, stop everything; the variants carry the figures."""
    variants = _variants()
    with ScriptedModelServer(scripted_reply) as model, RestateServer(base_dir=log_dir / "restate-adk") as server:

        def process_of(variant: Variant) -> ServiceProcess:
            log_path = log_dir / f"service-adk-{variant.name.split()[0]}.log"
            return ServiceProcess(
                variant.target, env=model.client_env(), log_path=log_path, server=server_kind, workers=workers
            )

        with serving(server, variants, process_of):

            async def measure() -> None:
                async with httpx.AsyncClient(timeout=300) as client:
                    for variant in variants:  # warm up: imports, connections, the first journal
                        _, ok = await _run_once(client, variant, server.ingress_url)
                        if not ok:
                            raise RuntimeError(f"{variant.name}: the warm-up run failed (see its service log)")
                    for round_ in range(rounds):
                        order = variants if round_ % 2 == 0 else variants[::-1]
                        for variant in order:
                            before = len(model.requests)
                            elapsed, ok = await _run_once(client, variant, server.ingress_url)
                            if ok:
                                variant.latencies.append(elapsed)
                                variant.requests_per_run += (len(model.requests) - before) / rounds
                            else:
                                variant.failures += 1

            asyncio.run(measure())
            for variant in variants:
                if variant.service is not None:
                    variant.journal = last_journal(server, variant.service)
    return variants


def report(variants: list[Variant], *, server_kind: str, workers: int | None) -> bool:
    """Print the figures and the targets; True when every target is met."""
    steps = len(TOOL_SCRIPT) + 1
    served = f"{choose_server(server_kind)} x{workers or default_workers()}"
    print(
        f"ADK comparison: 3-tool ADK agent, {steps} model calls x {MODEL_LATENCY * 1000:.0f} ms, served by "
        f"{served}; {load()}"
    )
    print(
        f"  {'variant':<24} {'sequential median':>17} {'min':>8} {'n':>3} {'failed':>6} | model req/run | journal/run"
    )
    for v in variants:
        med = statistics.median(v.latencies) * 1000 if v.latencies else float("nan")
        low = min(v.latencies) * 1000 if v.latencies else float("nan")
        journal = f"{v.journal[0]} entries, {v.journal[1]:,} B" if v.journal else "-"
        print(
            f"  {v.name:<24} {med:>14.0f} ms {low:>5.0f} ms {len(v.latencies):>3} {v.failures:>6} | "
            f"{v.requests_per_run:>13.1f} | {journal}"
        )
    ours, peer, plain = variants
    if not (ours.latencies and peer.latencies and plain.latencies):
        print("  targets: not measured (a variant had no successful run)", flush=True)
        return False
    rows = [
        (
            "sequential latency: ours / plain ADK",
            statistics.median(ours.latencies) / statistics.median(plain.latencies),
            TARGET_VS_PLAIN,
        ),
        (
            "sequential latency: ours / restate.ext.adk",
            statistics.median(ours.latencies) / statistics.median(peer.latencies),
            TARGET_VS_PEER,
        ),
    ]
    met = all(v.failures == 0 for v in variants)
    print("  targets:")
    for name, value, limit in rows:
        print(f"    {name:<46} {value:>8.3f}  (target <= {limit:g})  {'met' if value <= limit else 'MISSED'}")
        met = met and value <= limit
    print(f"    {'failed runs, all variants':<46} {sum(v.failures for v in variants):>8}  (target 0)", flush=True)
    return met
