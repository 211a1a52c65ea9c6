"""A service of empty journaled steps: what serving one step costs, with nothing else in the way."""

from __future__ import annotations

import os

import restate

service = restate.Service(os.environ.get("BENCH_SERVICE", "BenchSteps"))


def nothing() -> int:
    return 1


@service.handler()
async def steps(ctx: restate.Context, count: int) -> int:
    done = 0
    for i in range(count):
        done += await ctx.run_typed(f"step {i}", nothing)
    return done


app = restate.app([service])
