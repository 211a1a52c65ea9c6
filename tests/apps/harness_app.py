"""A minimal app that proves the harness: one journaled effect, then a step that blocks on a gate."""

import restate

from tests.apps._support import record_effect, wait_for_gate

probe = restate.Service("HarnessProbe")


@probe.handler()
async def run(ctx: restate.Context, name: str) -> str:
    async def first() -> str:
        record_effect(f"first:{name}")
        return "first-done"

    async def second() -> str:
        record_effect(f"second-started:{name}")
        await wait_for_gate(name)
        record_effect(f"second:{name}")
        return "second-done"

    a = await ctx.run_typed("first", first)
    b = await ctx.run_typed("second", second)
    return f"{a},{b}"


app = restate.app([probe])
