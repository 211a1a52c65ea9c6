"""The peer comparison: one 3-tool agent through our DurableRunner, restate.ext.openai's, and plain Runner.run.

Each variant is its own served app (``bench/agent_*.py``), started by the serve command exactly as a
user's deployment is (:class:`ServiceProcess`), against one scripted model server whose every reply
takes 100 ms. Everything is measured in the same run, interleaved, so the machine's speed and load
cancel out of the ratios:

- sequential latency: one run at a time, rounds alternating between the variants (median);
- 100 concurrent runs: wall time from the first request to the last answer, and failed runs;
- service RSS: the peak resident memory of each worker process of the variant (``VmHWM``);
- journal: entries and bytes one run leaves in the server's ``sys_journal``.

``ours/hypercorn x1`` is our variant served the way the serve command did before it had workers and
granian (one hypercorn process): the concurrency target is relative to it.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench._agent_common import MODEL_LATENCY, TOOL_SCRIPT, last_journal, scripted_reply, serving, timed_run
from bench._proc import cpu_seconds, group_pids, load, memory_kb, server_pids
from integrations.runtime import RestateServer, ServiceProcess
from integrations.runtime.serve import choose_server, default_workers
from integrations.testing import ScriptedModelServer

TARGET_VS_PLAIN = 1.05
TARGET_VS_PEER = 1.0
TARGET_CONCURRENT = 0.7
TARGET_RSS_MB = 150.0


@dataclass
class Variant:
    name: str
    target: str
    service: str | None  # the Restate service; None: a plain HTTP app called directly
    server: str = "auto"
    workers: int | None = None
    env: dict[str, str] = field(default_factory=dict)
    process: ServiceProcess | None = None
    latencies: list[float] = field(default_factory=list)
    concurrent: list[tuple[float, int, float]] = field(default_factory=list)  # (wall, errors, median run)
    rss_mb: list[float] = field(default_factory=list)  # peak RSS of each worker
    supervisor_mb: float | None = None
    journal: tuple[int, int] | None = None  # (entries, bytes) of one run
    pids: list[int] = field(default_factory=list)  # the service's processes, found after the warm-up
    cpu: dict[str, list[float]] = field(default_factory=dict)  # phase -> [service, server, harness] CPU seconds
    runs_in: dict[str, int] = field(default_factory=dict)  # phase -> runs measured

    @property
    def label(self) -> str:
        server = choose_server(self.server)
        workers = self.workers or default_workers()
        return f"{self.name} ({server} x{workers})"


def _variants(server: str, workers: int | None) -> list[Variant]:
    return [
        Variant("ours", "bench/agent_ours.py:app", "BenchOurs", server, workers),
        Variant("peer", "bench/agent_peer.py:app", "BenchPeer", server, workers),
        Variant("plain", "bench/agent_plain.py:app", None, server, workers),
        Variant(
            "ours/today",
            "bench/agent_ours.py:app",
            "BenchOursToday",
            "hypercorn",
            1,
            {"BENCH_SERVICE": "BenchOursToday"},
        ),
    ]


class _CpuMeter:
    """CPU seconds spent by a variant's service, the restate-server and this harness, per phase."""

    def __init__(self, server_pids: list[int]) -> None:
        self.server_pids = server_pids

    def snapshot(self, variant: Variant) -> tuple[float, float, float]:
        return cpu_seconds(variant.pids), cpu_seconds(self.server_pids), time.process_time()

    def add(self, variant: Variant, phase: str, before: tuple[float, float, float], runs: int) -> None:
        after = self.snapshot(variant)
        spent = variant.cpu.setdefault(phase, [0.0, 0.0, 0.0])
        for i in range(3):
            spent[i] += after[i] - before[i]
        variant.runs_in[phase] = variant.runs_in.get(phase, 0) + runs


def _measure_rss(variant: Variant) -> None:
    assert variant.process is not None and variant.process.pid is not None
    main = variant.process.pid
    workers = [pid for pid in group_pids(main) if pid != main]
    if workers:  # a supervisor (granian's, or ours for hypercorn) and its workers
        variant.supervisor_mb = memory_kb(main) / 1024
        variant.rss_mb = [memory_kb(pid) / 1024 for pid in workers]
    else:
        variant.rss_mb = [memory_kb(main) / 1024]


async def _run_once(client: httpx.AsyncClient, variant: Variant, ingress: str) -> tuple[float, bool]:
    if variant.service is None:
        assert variant.process is not None
        return await timed_run(client, f"{variant.process.uri}/run")
    return await timed_run(client, f"{ingress}/{variant.service}/run")


async def _sequential(
    client: httpx.AsyncClient, variants: list[Variant], ingress: str, rounds: int, meter: _CpuMeter
) -> None:
    for variant in variants:  # warm up: imports, connections, the first journal of a service
        for _ in range(2):
            _, ok = await _run_once(client, variant, ingress)
            if not ok:
                raise RuntimeError(f"{variant.name}: the warm-up run failed (see its service log)")
        assert variant.process is not None and variant.process.pid is not None
        variant.pids = group_pids(variant.process.pid)
    for round_ in range(rounds):
        order = variants if round_ % 2 == 0 else variants[::-1]  # alternate, so drift hits all alike
        for variant in order:
            before = meter.snapshot(variant)
            elapsed, ok = await _run_once(client, variant, ingress)
            meter.add(variant, "sequential", before, 1)
            if ok:
                variant.latencies.append(elapsed)


async def _concurrent(
    client: httpx.AsyncClient, variants: list[Variant], ingress: str, runs: int, rounds: int, meter: _CpuMeter
) -> None:
    for round_ in range(rounds):
        order = variants if round_ % 2 == 0 else variants[::-1]
        for variant in order:
            before = meter.snapshot(variant)
            start = time.perf_counter()
            results = await asyncio.gather(*(_run_once(client, variant, ingress) for _ in range(runs)))
            wall = time.perf_counter() - start
            meter.add(variant, "concurrent", before, runs)
            errors = sum(1 for _, ok in results if not ok)
            variant.concurrent.append((wall, errors, statistics.median(t for t, _ in results)))


def run(
    *, server_kind: str, workers: int | None, rounds: int, runs: int, concurrent_rounds: int, log_dir: Path
) -> list[Variant]:
    """Start everything, measure, stop everything; the variants carry the figures."""
    variants = _variants(server_kind, workers)
    with ScriptedModelServer(scripted_reply) as model, RestateServer(base_dir=log_dir / "restate") as server:

        def process_of(variant: Variant) -> ServiceProcess:
            env = {**model.client_env(), **variant.env}
            log_path = log_dir / f"service-{variant.name.replace('/', '-')}.log"
            return ServiceProcess(
                variant.target, env=env, log_path=log_path, server=variant.server, workers=variant.workers
            )

        with serving(server, variants, process_of):
            meter = _CpuMeter(server_pids(server))

            async def measure() -> None:
                limits = httpx.Limits(max_connections=runs * 2, max_keepalive_connections=runs * 2)
                async with httpx.AsyncClient(timeout=300, limits=limits) as client:
                    await _sequential(client, variants, server.ingress_url, rounds, meter)
                    await _concurrent(client, variants, server.ingress_url, runs, concurrent_rounds, meter)

            asyncio.run(measure())
            for variant in variants:
                _measure_rss(variant)
                if variant.service is not None:
                    variant.journal = last_journal(server, variant.service)
    return variants


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def report(variants: list[Variant], runs: int) -> list[tuple[str, float, float, bool]]:
    """Print the figures and the targets; return (target, value, limit, met) rows."""
    by_name = {v.name: v for v in variants}
    steps = len(TOOL_SCRIPT) + 1
    print(
        f"peer comparison: 3-tool agent, {steps} model calls x {MODEL_LATENCY * 1000:.0f} ms "
        f"(floor {steps * MODEL_LATENCY * 1000:.0f} ms); {load()}"
    )
    print(
        f"  {'variant':<30} {'sequential median':>17} {'min':>8} {'n':>3} | {runs} concurrent: {'wall':>8} {'errors':>6} {'median run':>10} | {'RSS/worker (peak)':>17} | journal/run"
    )
    for v in variants:
        med = statistics.median(v.latencies) if v.latencies else float("nan")
        low = min(v.latencies) if v.latencies else float("nan")
        wall_s = statistics.mean(w for w, _, _ in v.concurrent) if v.concurrent else float("nan")
        errors = sum(e for _, e, _ in v.concurrent)
        per_run = statistics.mean(m for _, _, m in v.concurrent) if v.concurrent else float("nan")
        rss = "/".join(f"{mb:.0f}" for mb in v.rss_mb) + " MB"
        if v.supervisor_mb is not None:
            rss += f" (+{v.supervisor_mb:.0f})"
        journal = f"{v.journal[0]} entries, {v.journal[1]:,} B" if v.journal else "-"
        print(
            f"  {v.label:<30} {_ms(med):>17} {_ms(low):>8} {len(v.latencies):>3} | {'':>{len(str(runs)) + 13}}"
            f"{_ms(wall_s):>8} {errors:>6} {_ms(per_run):>10} | {rss:>17} | {journal}"
        )
    print("  CPU ms per run (service / restate-server / harness incl. the scripted model):")
    for v in variants:
        parts = []
        for phase in ("sequential", "concurrent"):
            if v.runs_in.get(phase):
                service, server, harness = (x * 1000 / v.runs_in[phase] for x in v.cpu[phase])
                parts.append(f"{phase} {service:.1f} / {server:.1f} / {harness:.1f}")
        print(f"    {v.label:<30} " + "; ".join(parts))
    ours, peer, plain, today = by_name["ours"], by_name["peer"], by_name["plain"], by_name["ours/today"]

    def median(v: Variant) -> float:
        return statistics.median(v.latencies)

    def wall(v: Variant) -> float:
        return statistics.mean(w for w, _, _ in v.concurrent)

    rows = [
        ("sequential latency: ours / plain", median(ours) / median(plain), TARGET_VS_PLAIN),
        ("sequential latency: ours / peer", median(ours) / median(peer), TARGET_VS_PEER),
        (f"{runs} concurrent runs, wall: ours / ours today", wall(ours) / wall(today), TARGET_CONCURRENT),
        ("peak RSS per worker (MB): ours", max(ours.rss_mb), TARGET_RSS_MB),
    ]
    errors = sum(e for v in variants for _, e, _ in v.concurrent)
    print("  targets:")
    results = []
    for name, value, limit in rows:
        met = value <= limit
        results.append((name, value, limit, met))
        print(f"    {name:<46} {value:>8.3f}  (target <= {limit:g})  {'met' if met else 'MISSED'}")
    print(f"    {'failed runs, all variants':<46} {errors:>8}  (target 0)  {'met' if errors == 0 else 'MISSED'}")
    print(
        f"  for reference: sequential ours/today {median(ours) / median(today):.3f}, peer/plain {median(peer) / median(plain):.3f}; "
        f"{runs} concurrent wall: peer/today {wall(peer) / wall(today):.3f}, plain/today {wall(plain) / wall(today):.3f}",
        flush=True,
    )
    results.append(("failed runs", float(errors), 0.0, errors == 0))
    return results
