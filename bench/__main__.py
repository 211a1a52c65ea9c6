"""Benchmark: ratios measured in one run (``./dev bench``).

1. Durable model call (DurableModel) vs a bare ``ctx.run`` around the same simulated 200 ms call.
   Target: <= 1.2x.
2. Session turn overhead (RestateSession load + read + two appends, as the SDK does per turn) at
   turn 500 vs turn 1, per storage layout:
   - ``list`` (default, the docs' ``ctx.get("items")``) and ``append`` keep the whole history in view;
     target <= 1.5x, which reading the whole history every turn cannot meet;
   - ``compacted`` (``Compaction``: summary + live window) and ``drop`` (``DropOldest``) read one small
     key per turn; target <= 1.2x. ``+lazy`` runs the same turn in a handler with
     ``state_preload=False``, so the server does not send the archive keys up front.
3. Serving one journal step: granian vs hypercorn (``bench/serving.py``), how the serve command's
   default server was chosen.
4. The peer comparison (``bench/peer.py``): one 3-tool agent (4 model calls of 100 ms) through our
   ``DurableRunner``, ``restate.ext.openai``'s, and plain ``Runner.run``, each served by the serve
   command: sequential latency, N concurrent runs, RSS per worker, journal per run. Targets: ours
   <= 1.05x plain, ours <= peer, N concurrent runs <= 0.7x the wall time of today's serving (one
   hypercorn process), RSS <= 150 MB per worker.
5. Tools (``bench/tools.py``): one turn with 3 parallel tool calls, each awaiting 0.3 s, through plain
   ``Runner.run``, our ``DurableRunner`` at its defaults and with ``sequential_tools=True``, plus the
   peer agent's ours and plain for reference, all interleaved in the same rounds. Target: ours at
   defaults <= 1.15x plain.
6. Streams (``bench/streams.py``): how soon SSE readers on two workers see an event after its
   publication, p50/p99, with the cross-process wake-ups and with them off (readers poll).
   Target: p99 <= 100 ms.
7. ADK (``bench/adk.py``): one 3-tool Google ADK agent through ``integrations.google_adk``,
   ``restate.ext.adk`` and plain ADK: sequential latency, journal per run, model requests per run.
   Targets: ours <= 1.15x plain ADK, ours <= 1.05x restate.ext.adk.

``--parts`` picks what runs (default: all, a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench import adk, peer, serving, streams, tools
from bench._proc import load
from integrations.runtime import RestateServer, Stack
from integrations.runtime.serve import SERVERS

PARTS = "calls,sessions,steps,peer,tools,streams,adk"
LAYOUTS = "list,append,compacted,compacted+lazy,drop,drop+lazy"
TARGETS = {"list": 1.5, "append": 1.5}  # everything else: 1.2
GATE = "compacted+lazy"  # the figure the exit code holds to its 1.2x target (see docs/benchmark.md)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def state_bytes(server: RestateServer, key: str, handler: str) -> tuple[int, int]:
    """(bytes of state reads journaled by the key's latest turn, bytes of all state the key holds).

    The first is what the turn paid for in the journal; the second is what Restate's default eager
    state sends to every invocation of the key before the handler reads anything.
    """
    latest = server.query(
        f"SELECT id FROM sys_invocation WHERE target = 'BenchSession/{key}/{handler}' ORDER BY created_at DESC LIMIT 1"
    )
    entries = server.query(f"SELECT entry_type, raw_length FROM sys_journal WHERE id = '{latest[0]['id']}'")
    # an eager read journals the value in its command; a lazy read in the notification that completes it
    read = sum(
        int(e["raw_length"])
        for e in entries
        if e["entry_type"] in ("Command: GetEagerState", "Command: GetLazyState", "Notification: GetLazyState")
    )
    held = server.query(
        f"SELECT sum(length(value)) AS n FROM state WHERE service_name = 'BenchSession' AND service_key = '{key}'"
    )
    return read, int(held[0].get("n") or 0)


def calls_and_sessions(args: argparse.Namespace, parts: set[str]) -> bool:
    """Parts 1 and 2; True when their gating targets are met."""
    layouts = [layout for layout in args.layouts.split(",") if layout] if "sessions" in parts else []
    bare: list[float] = []
    adapter: list[float] = []
    call_ratio = None

    with RestateServer() as server, Stack(server, "bench/apps.py:app") as stack:
        ingress = stack.ingress
        if "calls" in parts:
            ingress.call("Bench", "bare", 1)  # warm up both paths
            ingress.call("Bench", "adapter", 1)
            for _ in range(args.rounds):  # interleaved, so drift hits both equally
                bare.append(timed(lambda: ingress.call("Bench", "bare", args.calls)))
                adapter.append(timed(lambda: ingress.call("Bench", "adapter", args.calls)))
            call_ratio = statistics.median(adapter) / statistics.median(bare)

        turns, sizes = {}, {}
        for layout in layouts:
            run_id = time.time_ns()
            name, _, mode = layout.partition("+")
            handler = "lazy_turn" if mode == "lazy" else "turn"

            def turn(key: str, i: int, name: str = name, handler: str = handler) -> float:
                payload = {"message": f"message {i}", "layout": name}
                return timed(lambda: ingress.call("BenchSession", handler, payload, key=key))

            prefix = f"bench-{name}-{mode or 'eager'}-{run_id}"
            for i in range(args.turns - 1):  # build the history: the next turn on the long key is turn N
                turn(f"{prefix}-long", i)
            first, second, last = [], [], []
            for i in range(args.window * 2):  # alternate so machine drift hits both ends equally
                first.append(turn(f"{prefix}-new-{i}", 0))
                last.append(turn(f"{prefix}-long", args.turns + i))
                second.append(turn(f"{prefix}-new-{i}", 1))
            turns[layout] = (first, second, last)
            turn(f"{prefix}-probe", 0)  # a key that has had exactly one turn
            sizes[layout] = (
                state_bytes(server, f"{prefix}-probe", handler),
                state_bytes(server, f"{prefix}-long", handler),
            )

    if call_ratio is not None:
        print(f"durable model call vs bare ctx.run ({args.calls} x 200 ms calls, median of {args.rounds}):")
        print(
            f"  bare {statistics.median(bare) * 1000:.1f} ms, adapter {statistics.median(adapter) * 1000:.1f} ms, "
            f"ratio {call_ratio:.3f}x (target <= 1.2x) {'OK' if call_ratio <= 1.2 else 'MISSED'}",
            flush=True,
        )
    if not layouts:
        return call_ratio is None or call_ratio <= 1.2
    print(
        f"session turn cost, turn {args.turns}+ vs turn 1 ({args.window * 2} alternating samples each; turn 2 for reference):"
    )
    ratios = {}
    for layout, (first, second, last) in turns.items():
        ratios[layout] = statistics.median(last) / statistics.median(first)
        target = TARGETS.get(layout.partition("+")[0], 1.2)
        first_ms, second_ms, last_ms = (statistics.median(times) * 1000 for times in (first, second, last))
        verdict = "OK" if ratios[layout] <= target else "MISSED"
        print(
            f"  {layout:<15} turn 1 median {first_ms:.2f} ms (mean {statistics.mean(first) * 1000:.2f}), "
            f"turn {args.turns}+ median {last_ms:.2f} ms (mean {statistics.mean(last) * 1000:.2f}), "
            f"ratio of medians {ratios[layout]:.3f}x (target <= {target}x) {verdict}; "
            f"vs turn 2 ({second_ms:.2f} ms) {last_ms / second_ms:.3f}x",
            flush=True,
        )
    print(
        "state per turn, turn 1 -> turn N+: bytes of state reads journaled; bytes of state the key holds (sent eagerly)"
    )
    for layout, ((read_1, held_1), (read_n, held_n)) in sizes.items():
        print(f"  {layout:<15} reads {read_1:>7,} -> {read_n:>7,} B; held {held_1:>7,} -> {held_n:>9,} B")
    return (call_ratio is None or call_ratio <= 1.2) and ratios.get(GATE, 0) <= 1.2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=PARTS, help=f"comma-separated, default {PARTS}")
    calls = parser.add_argument_group("calls: durable model call vs bare ctx.run")
    calls.add_argument("--calls", type=int, default=5, help="model calls per invocation")
    calls.add_argument("--rounds", type=int, default=5)
    sessions = parser.add_argument_group("sessions: turn cost at turn N vs turn 1")
    sessions.add_argument("--turns", type=int, default=500)
    sessions.add_argument("--window", type=int, default=50, help="samples at each end = 2 x window")
    sessions.add_argument("--layouts", default=LAYOUTS, help=f"comma-separated, default {LAYOUTS}")
    steps = parser.add_argument_group("steps: serving one journal step, granian vs hypercorn")
    steps.add_argument("--steps", type=int, default=50, help="empty steps per invocation")
    steps.add_argument("--step-rounds", type=int, default=10)
    comparison = parser.add_argument_group("peer: ours vs restate.ext.openai vs plain Runner.run")
    comparison.add_argument("--peer-rounds", type=int, default=10, help="sequential runs per variant")
    comparison.add_argument("--concurrency", type=int, default=100, help="runs started at once")
    comparison.add_argument("--concurrent-rounds", type=int, default=2, help="bursts per variant (alternating order)")
    comparison.add_argument(
        "--server", choices=SERVERS, default="auto", help="how the peer and tools parts' variants are served"
    )
    comparison.add_argument("--workers", type=int, default=None, help="their workers (default: the serve default)")
    comparison.add_argument("--log-dir", type=Path, default=None, help="service and server logs (default: a temp dir)")
    tool_part = parser.add_argument_group("tools: a turn with 3 parallel tool calls of 0.3 s")
    tool_part.add_argument("--tool-rounds", type=int, default=12, help="sequential runs per variant")
    stream_part = parser.add_argument_group("streams: SSE delivery latency with several workers")
    stream_part.add_argument("--stream-workers", type=int, default=2)
    stream_part.add_argument("--readers", type=int, default=4, help="SSE connections on the topic")
    stream_part.add_argument("--events", type=int, default=200, help="events published, one at a time")
    stream_part.add_argument("--gap", type=float, default=0.02, help="seconds between two events of a burst")
    stream_part.add_argument("--burst", type=int, default=10, help="events per burst (one answer)")
    stream_part.add_argument("--idle", type=float, default=1.2, help="seconds between two bursts")
    adk_part = parser.add_argument_group("adk: ours vs restate.ext.adk vs plain ADK")
    adk_part.add_argument("--adk-rounds", type=int, default=10, help="sequential runs per variant")
    args = parser.parse_args(argv)
    parts = {part for part in args.parts.split(",") if part}
    unknown = parts - set(PARTS.split(","))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {PARTS}")

    print(f"./dev bench --parts {','.join(p for p in PARTS.split(',') if p in parts)}; {load()}", flush=True)
    met = True
    if parts & {"calls", "sessions"}:
        met = calls_and_sessions(args, parts) and met
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="bench-"))
    if "steps" in parts:
        serving.report(serving.run(steps=args.steps, rounds=args.step_rounds, log_dir=log_dir), args.steps)
    if "peer" in parts:
        variants = peer.run(
            server_kind=args.server,
            workers=args.workers,
            rounds=args.peer_rounds,
            runs=args.concurrency,
            concurrent_rounds=args.concurrent_rounds,
            log_dir=log_dir,
        )
        met = all(ok for _, _, _, ok in peer.report(variants, args.concurrency)) and met
    if "tools" in parts:
        measured = tools.run(rounds=args.tool_rounds, log_dir=log_dir, server_kind=args.server, workers=args.workers)
        met = tools.report(measured, server_kind=args.server, workers=args.workers) and met
    if "streams" in parts:
        latency = streams.run(
            workers=args.stream_workers,
            readers=args.readers,
            events=args.events,
            gap=args.gap,
            burst=args.burst,
            idle=args.idle,
            log_dir=log_dir,
        )
        met = streams.report(latency, workers=args.stream_workers, readers=args.readers) and met
    if "adk" in parts:
        measured_adk = adk.run(rounds=args.adk_rounds, log_dir=log_dir, server_kind=args.server, workers=args.workers)
        met = adk.report(measured_adk, server_kind=args.server, workers=args.workers) and met
    print(f"done; {load()}; logs in {log_dir}", flush=True)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
