"""Benchmark: ratios measured in one run (``./dev bench``).

1. Durable model call (DurableModel) vs a bare ``ctx.run`` around the same simulated 200 ms call.
   Target: <= 1.2x.
2. Session turn overhead (RestateSession load + read + two appends, as the SDK does per turn) at
   turn 500 vs turn 1, for both storage layouts. Target: <= 1.5x. The docs-compatible "list"
   layout rewrites the whole history under one state key and cannot meet it; "segments" does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

from integrations.runtime import RestateServer, Stack


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=5, help="model calls per invocation")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--window", type=int, default=25, help="samples at each end = 2 x window")
    parser.add_argument("--layouts", default="list,append,compacted,drop", help="session layouts to measure")
    args = parser.parse_args(argv)

    with RestateServer() as server, Stack(server, "bench/apps.py:app") as stack:
        ingress = stack.ingress
        ingress.call("Bench", "bare", 1)  # warm up both paths
        ingress.call("Bench", "adapter", 1)
        bare, adapter = [], []
        for _ in range(args.rounds):  # interleaved, so drift hits both equally
            bare.append(timed(lambda: ingress.call("Bench", "bare", args.calls)))
            adapter.append(timed(lambda: ingress.call("Bench", "adapter", args.calls)))
        call_ratio = statistics.median(adapter) / statistics.median(bare)

        turns = {}
        for layout in args.layouts.split(","):
            run_id = time.time_ns()

            def turn(key: str, i: int, layout: str = layout) -> float:
                name, _, mode = layout.partition("+")
                payload = {"message": f"message {i}", "layout": name}
                handler = "lazy_turn" if mode == "lazy" else "turn"
                return timed(lambda: ingress.call("BenchSession", handler, payload, key=key))

            long_key = f"bench-{layout.replace('+', '-')}-{run_id}-long"
            for i in range(args.turns - 1):  # build the history: the next turn on long_key is turn N
                turn(long_key, i)
            first, last = [], []
            for i in range(args.window * 2):  # alternate so machine drift hits both ends equally
                first.append(turn(f"bench-{layout.replace('+', '-')}-{run_id}-new-{i}", 0))
                last.append(turn(long_key, args.turns + i))
            turns[layout] = (first, last)

    print(f"durable model call vs bare ctx.run ({args.calls} x 200 ms calls, median of {args.rounds}):")
    print(f"  bare {statistics.median(bare) * 1000:.1f} ms, adapter {statistics.median(adapter) * 1000:.1f} ms, "
          f"ratio {call_ratio:.3f}x (target <= 1.2x) {'OK' if call_ratio <= 1.2 else 'MISSED'}")
    print(f"session turn cost, turn {args.turns}+ vs turn 1 ({args.window * 2} alternating samples each):")
    ratios = {}
    for layout, (first, last) in turns.items():
        ratios[layout] = statistics.median(last) / statistics.median(first)
        print(f"  {layout:<14} turn 1 median {statistics.median(first) * 1000:.2f} ms (mean {statistics.mean(first) * 1000:.2f}), "
              f"turn {args.turns}+ median {statistics.median(last) * 1000:.2f} ms (mean {statistics.mean(last) * 1000:.2f}), "
              f"ratio of medians {ratios[layout]:.3f}x (target <= 1.5x) {'OK' if ratios[layout] <= 1.5 else 'MISSED'}")
    append_ratio = ratios.get("append", 0)
    return 0 if call_ratio <= 1.2 and append_ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
