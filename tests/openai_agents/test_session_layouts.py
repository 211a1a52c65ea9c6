"""RestateSession storage layouts, in process against a fake object context."""

from __future__ import annotations

import random
from typing import Any, Literal

import pytest

from integrations.openai_agents import RestateSession
from integrations.openai_agents._session import TAIL_SIZE

from ._fake_context import FakeObjectContext, as_items


@pytest.mark.parametrize("layout", ["list", "append"])
async def test_random_operations_match_a_reference_list(layout: Literal["list", "append"]) -> None:
    rng = random.Random(7)
    ctx = FakeObjectContext()
    reference: list[dict[str, Any]] = []
    for step in range(600):
        session = await RestateSession.create(session_id="k", ctx=ctx.restate, layout=layout)
        assert await session.get_items() == reference
        roll = rng.random()
        if roll < 0.8:
            batch = [{"role": "user", "content": f"{step}-{i}"} for i in range(rng.randint(1, 3))]
            await session.add_items(as_items(batch))
            reference.extend(batch)
        elif roll < 0.97:
            assert await session.pop_item() == (reference.pop() if reference else None)
        else:
            await session.clear_session()
            reference.clear()
        assert await session.get_items(limit=2) == reference[-2:]
        assert await RestateSession.history(ctx.restate, layout=layout) == reference


async def test_list_layout_is_readable_as_in_the_docs() -> None:
    ctx = FakeObjectContext()
    session = await RestateSession.create(session_id="k", ctx=ctx.restate)
    await session.add_items([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}])
    assert await ctx.get("items") == [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]


async def test_append_layout_turns_do_not_rewrite_the_history() -> None:
    ctx = FakeObjectContext()
    for turn in range(500):
        session = await RestateSession.create(session_id="k", ctx=ctx.restate, layout="append")
        ctx.writes.clear()
        await session.add_items([{"role": "user", "content": f"q{turn}"}])
        await session.add_items([{"role": "assistant", "content": f"a{turn}"}])
        written = sum(count for _, count in ctx.writes)
        folded = any(name.endswith("/archive") for name, _ in ctx.writes)
        assert folded or written <= 2 * (TAIL_SIZE + 1), (turn, ctx.writes)
    assert len(await RestateSession.history(ctx.restate, layout="append")) == 1000
    # folding the tail into the archive is rare: about once per TAIL_SIZE / 2 turns
    list_ctx = FakeObjectContext()
    for turn in range(500):
        session = await RestateSession.create(session_id="k", ctx=list_ctx.restate)
        await session.add_items([{"role": "user", "content": f"q{turn}"}])
        await session.add_items([{"role": "assistant", "content": f"a{turn}"}])
    assert sum(c for _, c in list_ctx.writes) > 10 * sum(c for _, c in ctx.writes)


async def test_other_session_ids_get_their_own_key_and_bad_layout_is_rejected() -> None:
    ctx = FakeObjectContext(key="user-1")
    side = await RestateSession.create(session_id="support", ctx=ctx.restate)
    await side.add_items([{"role": "user", "content": "x"}])
    assert "items:support" in ctx.state and "items" not in ctx.state
    with pytest.raises(ValueError, match="unknown session layout"):
        await RestateSession.create(session_id="user-1", ctx=ctx.restate, layout="tree")  # type: ignore[arg-type]


async def test_session_requires_an_exclusive_object_context() -> None:
    with pytest.raises(TypeError, match="exclusive Virtual Object handler"):
        await RestateSession.create(session_id="x", ctx=object())  # type: ignore[arg-type]
