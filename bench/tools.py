"""The ``tools`` part: one turn with 3 parallel tool calls, each waiting 0.3 s on an API.

The agent (``bench/_tools_agent.py``) makes two model calls of 100 ms: the first answers with three
function calls in one response, the second with the final text. Each tool is a plain
``@function_tool`` that awaits 0.3 s. So a run takes at least 500 ms when the three waits overlap,
and 1,100 ms when the tools run one at a time. Variants, served by the serve command (two
processes, one plain and one durable, both at the serve defaults):

- ``plain``: ``Runner.run`` in a bare ASGI app (``bench/tools_plain.py``): no Restate, no journal;
- ``ours, defaults``: ``DurableRunner.run(agent, msg, context=ctx)`` with no options
  (``bench/tools_ours.py``), so whatever the installed toolkit does by default;
- ``ours, sequential_tools=True``: the same with one tool at a time, for reference;
- ``ours, sequential_tools=False``: the same with the SDK running the turn's tools concurrently,
  for reference (before issue #15's change, the tools are then not journaled).

In the same rounds, for reference, the peer part's agent (4 model calls of 100 ms, one tool per
turn; ``bench/agent_ours.py`` and ``bench/agent_plain.py``, served by the same two processes): its
ours/plain ratio is the peer part's sequential-latency figure, measured here under the same load as
the tools figures. One scripted model server answers both agents (by the tools they offer).

Runs are sequential, one at a time; each round runs every variant once, in an order that reverses
every round, so load drift hits all variants alike. Ratios are of medians. Target: ours at
defaults <= 1.15x plain.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import _agent_common, _tools_agent
from bench._proc import load
from bench.peer import TARGET_VS_PLAIN
from integrations.runtime import RestateServer, ServiceProcess
from integrations.runtime.serve import choose_server, default_workers
from integrations.testing import ScriptedModelServer

TARGET_DEFAULTS_VS_PLAIN = 1.15
PEER_TARGET = TARGET_VS_PLAIN  # the peer part's ours/plain target


@dataclass
class Variant:
    name: str
    process: str  # which of SERVED runs it
    path: str  # the ingress path (service/handler), or the plain app's own path
    answer: str
    message: str
    durable: bool = True
    latencies: list[float] = field(default_factory=list)
    failed: int = 0
    journal: tuple[int, int, Counter[str]] | None = None  # entries, bytes, ctx.run steps by name


SERVED = {  # name -> the served app; each also serves the peer agent of the reference rows
    "plain": "bench/tools_plain.py:app",
    "ours": "bench/tools_ours.py:app",
}


def _variants() -> list[Variant]:
    tools = (_tools_agent.MESSAGE, _tools_agent.ANSWER)
    peer = (_agent_common.MESSAGE, _agent_common.ANSWER)
    return [
        Variant("plain Runner.run", "plain", "/run", tools[1], tools[0], durable=False),
        Variant("ours, defaults", "ours", "BenchTools/defaults", tools[1], tools[0]),
        Variant("ours, sequential_tools=True", "ours", "BenchTools/sequential", tools[1], tools[0]),
        Variant("ours, sequential_tools=False", "ours", "BenchTools/concurrent", tools[1], tools[0]),
        Variant("peer agent: plain Runner.run", "plain", "/peer", peer[1], peer[0], durable=False),
        Variant("peer agent: ours", "ours", "BenchOurs/run", peer[1], peer[0]),
    ]


async def _run_once(client: httpx.AsyncClient, variant: Variant, base: str) -> tuple[float, bool]:
    start = time.perf_counter()
    try:
        response = await client.post(f"{base}/{variant.path.lstrip('/')}", json=variant.message)
        ok = response.status_code == 200 and response.json() == variant.answer
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - start, ok


def _journal(server: RestateServer, target: str) -> tuple[int, int, Counter[str]] | None:
    """Entries and bytes one completed run of ``target`` left in ``sys_journal``, and its ``ctx.run``
    steps by name: whether the tools were journaled shows here."""
    rows = server.query(
        f"SELECT id FROM sys_invocation WHERE target = '{target}' AND status = 'completed' "
        "ORDER BY created_at DESC LIMIT 1"
    )
    if not rows:
        return None
    entries = server.query(f"SELECT entry_type, name, raw_length FROM sys_journal WHERE id = '{rows[0]['id']}'")
    steps = Counter(str(e.get("name") or "?") for e in entries if e["entry_type"] == "Command: Run")
    return len(entries), sum(int(e.get("raw_length") or 0) for e in entries), steps


def run(*, rounds: int, log_dir: Path, server_kind: str = "auto", workers: int | None = None) -> list[Variant]:
    """Start everything, measure, stop everything; the variants carry the figures."""
    variants = _variants()
    begun = time.perf_counter()
    processes: dict[str, ServiceProcess] = {}
    with (
        ScriptedModelServer(_tools_agent.scripted_reply) as model,
        RestateServer(base_dir=log_dir / "restate-tools") as server,
    ):
        try:
            for name, target in SERVED.items():
                processes[name] = ServiceProcess(
                    target,
                    env=model.client_env(),
                    log_path=log_dir / f"service-tools-{name}.log",
                    server=server_kind,
                    workers=workers,
                )
            with ThreadPoolExecutor(len(processes)) as pool:  # each start waits for its workers' imports
                list(pool.map(ServiceProcess.start, processes.values()))
            server.register(processes["ours"].uri)
            started = time.perf_counter()

            def base(variant: Variant) -> str:
                return server.ingress_url if variant.durable else processes[variant.process].uri

            async def measure() -> None:
                async with httpx.AsyncClient(timeout=120) as client:
                    for variant in variants:  # warm up: imports, connections, each handler's first journal
                        _, ok = await _run_once(client, variant, base(variant))
                        if not ok:
                            raise RuntimeError(f"{variant.name}: the warm-up run failed (logs in {log_dir})")
                    for round_ in range(rounds):
                        for variant in variants if round_ % 2 == 0 else variants[::-1]:
                            elapsed, ok = await _run_once(client, variant, base(variant))
                            if ok:
                                variant.latencies.append(elapsed)
                            else:
                                variant.failed += 1

            asyncio.run(measure())
            print(
                f"  tools: {len(SERVED)} services started in {started - begun:.0f} s, "
                f"measured in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            for variant in variants:
                if variant.durable:
                    variant.journal = _journal(server, variant.path)
        finally:
            for process in processes.values():
                process.stop()
    return variants


def _median(variant: Variant) -> float:
    return statistics.median(variant.latencies) if variant.latencies else float("nan")


def report(variants: list[Variant], *, server_kind: str = "auto", workers: int | None = None) -> bool:
    """Print the figures and the ratios; True when ours at defaults meets its target."""
    by_name = {v.name: v for v in variants}
    model_ms = _tools_agent.MODEL_LATENCY * 1000
    wait_ms = _tools_agent.API_WAIT * 1000
    calls = len(_tools_agent.TOOL_CALLS)
    print(
        f"tools: one turn with {calls} parallel tool calls, each awaiting {wait_ms:.0f} ms (asyncio.sleep), "
        f"2 model calls x {model_ms:.0f} ms: floor {2 * model_ms + wait_ms:.0f} ms if the tools overlap, "
        f"{2 * model_ms + calls * wait_ms:.0f} ms one at a time; served by {choose_server(server_kind)} "
        f"x{workers or default_workers()}; {load()}"
    )
    print(
        f"  {'variant':<30} {'median':>8} {'min':>8} {'max':>8} {'n':>3} {'failed':>6} | journal/run: entries, bytes; ctx.run steps"
    )
    for v in variants:
        low = min(v.latencies) if v.latencies else float("nan")
        high = max(v.latencies) if v.latencies else float("nan")
        journal = "-"
        if v.journal is not None:
            entries, size, steps = v.journal
            names = ", ".join(f"{n} x{c}" if c > 1 else n for n, c in sorted(steps.items()))
            journal = f"{entries}, {size:,} B; {sum(steps.values())}: {names}"
        print(
            f"  {v.name:<30} {_median(v) * 1000:>5.0f} ms {low * 1000:>5.0f} ms {high * 1000:>5.0f} ms "
            f"{len(v.latencies):>3} {v.failed:>6} | {journal}"
        )
    plain = _median(by_name["plain Runner.run"])
    defaults = _median(by_name["ours, defaults"]) / plain
    sequential = _median(by_name["ours, sequential_tools=True"]) / plain
    concurrent = _median(by_name["ours, sequential_tools=False"]) / plain
    peer = _median(by_name["peer agent: ours"]) / _median(by_name["peer agent: plain Runner.run"])
    failed = sum(v.failed for v in variants)
    met = defaults <= TARGET_DEFAULTS_VS_PLAIN and failed == 0
    print("  ratios of medians, this run:")
    print(
        f"    3 parallel tools: ours (defaults) / plain               {defaults:.3f}  "
        f"(target <= {TARGET_DEFAULTS_VS_PLAIN:g})  {'met' if defaults <= TARGET_DEFAULTS_VS_PLAIN else 'MISSED'}"
    )
    print(f"    3 parallel tools: ours (sequential_tools=True) / plain  {sequential:.3f}  (reference)")
    print(f"    3 parallel tools: ours (sequential_tools=False) / plain {concurrent:.3f}  (reference)")
    print(
        f"    peer agent, sequential: ours / plain                     {peer:.3f}  "
        f"(the peer part's sequential ours/plain, target <= {PEER_TARGET:g}; same rounds)"
    )
    print(f"    failed runs, all variants                                 {failed}  (target 0)", flush=True)
    return met
