"""Bounded session memory (``RestateSession(compaction=...)``).

In process against a fake object context: many random conversations with tool calls and reasoning
items, checking the invariants at every turn. On the real server with the scripted model: long
sessions keep the model input bounded, the summary call is journaled once (also under always-replay
and across a service kill), the archive keeps every item, and the journal shows one bounded state read
per turn.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest
from agents.items import ModelResponse
from agents.models.interface import Model
from agents.usage import Usage
from openai.types.responses import ResponseOutputMessage, ResponseOutputText

from integrations.openai_agents import Compaction, DropOldest, RestateSession
from integrations.openai_agents._compaction import SUMMARY_PREFIX, safe_cuts

from ._fake_context import FakeObjectContext


# -- in process ------------------------------------------------------------------------------------
class TokenSummariser(Model):
    """Answers with the sorted set of turn markers (``u<n>``) in its input, previous summary included:
    a summary that provably covers everything it was given."""

    def __init__(self) -> None:
        self.calls = 0

    async def get_response(  # type: ignore[override]
        self, system_instructions, input, model_settings, tools, output_schema, handoffs, tracing, *,
        previous_response_id, conversation_id, prompt,
    ) -> ModelResponse:
        self.calls += 1
        text = " ".join(str(item["content"]) for item in input)
        markers = sorted(set(re.findall(r"\bu\d+\b", text)), key=lambda m: int(m[1:]))
        message = ResponseOutputMessage(
            id=f"msg_{self.calls}", type="message", role="assistant", status="completed",
            content=[ResponseOutputText(type="output_text", text=" ".join(markers), annotations=[])],
        )
        return ModelResponse(output=[message], usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any):  # pragma: no cover - never streamed
        raise NotImplementedError


MAX_TURN_ITEMS = 13  # user + 2 x (reasoning + 2 calls + 2 outputs) + reasoning + message


def random_turn(rng: random.Random, turn: int) -> list[list[dict[str, Any]]]:
    """One turn as the SDK saves it: the user input, then each model response and tool results."""
    batches: list[list[dict[str, Any]]] = [[{"role": "user", "content": f"u{turn}"}]]
    for step in range(rng.choice([0, 0, 1, 2])):
        output: list[dict[str, Any]] = []
        if rng.random() < 0.5:
            output.append({"type": "reasoning", "id": f"rs_{turn}_{step}", "summary": []})
        calls = [
            {"type": "function_call", "call_id": f"call_{turn}_{step}_{n}", "name": "lookup", "arguments": "{}"}
            for n in range(rng.randint(1, 2))
        ]
        batches.append(output + calls)
        batches.append([{"type": "function_call_output", "call_id": c["call_id"], "output": "ok"} for c in calls])
    final: list[dict[str, Any]] = []
    if rng.random() < 0.3:
        final.append({"type": "reasoning", "id": f"rs_{turn}_final", "summary": []})
    final.append({"role": "assistant", "content": f"answer {turn}"})
    batches.append(final)
    return batches


def assert_well_formed(view: list[dict[str, Any]], history: list[dict[str, Any]]) -> None:
    """The view is a valid model input: a suffix of the history cut where the Responses API allows."""
    items = view[1:] if view and view[0].get("role") == "system" else view
    assert history[len(history) - len(items) :] == items
    start = len(history) - len(items)
    assert start == 0 or history[start - 1].get("type") != "reasoning", "a reasoning item lost its follower"
    calls = {i["call_id"] for i in items if i.get("type") == "function_call"}
    outputs = {i["call_id"] for i in items if i.get("type") == "function_call_output"}
    assert calls == outputs, f"orphans: calls {calls - outputs}, outputs {outputs - calls}"


@pytest.mark.parametrize(("keep_last", "summarize_after"), [(0, 5), (3, 16), (10, 30)])
async def test_compaction_keeps_a_bounded_well_formed_view_and_every_item(keep_last: int, summarize_after: int) -> None:
    rng = random.Random(keep_last * 100 + summarize_after)
    summariser = TokenSummariser()
    policy = Compaction(keep_last=keep_last, summarize_after=summarize_after, summarizer=summariser)
    ctx = FakeObjectContext()
    history: list[dict[str, Any]] = []
    for turn in range(150):
        ctx.reads.clear()
        session = await RestateSession.create(session_id="k", ctx=ctx, compaction=policy)
        view = await session.get_items()
        assert [key for key, _ in ctx.reads] == ["items/window"]  # a turn reads one small key, never the archive
        assert_well_formed(view, history)
        assert len(view) <= 1 + max(summarize_after, keep_last + MAX_TURN_ITEMS)
        if view and view[0].get("role") == "system":  # the summary covers exactly what left the view
            archived = {i["content"] for i in history[: len(history) - len(view) + 1] if i.get("role") == "user"}
            assert view[0]["content"] == SUMMARY_PREFIX + " ".join(sorted(archived, key=lambda m: int(m[1:])))
        for batch in random_turn(rng, turn):
            await session.add_items(batch)
            history.extend(batch)
        assert await RestateSession.history(ctx, layout="compacted") == history
    assert summariser.calls == len(ctx.runs) > 5
    assert all(name.endswith("(session summary)") for name in ctx.runs)
    assert len(history) > 4 * (summarize_after + MAX_TURN_ITEMS)


@pytest.mark.parametrize("max_items", [1, 6, 25])
async def test_drop_oldest_shows_at_most_max_items_and_archives_the_rest(max_items: int) -> None:
    rng = random.Random(max_items)
    ctx = FakeObjectContext()
    history: list[dict[str, Any]] = []
    for turn in range(150):
        ctx.reads.clear()
        session = await RestateSession.create(session_id="k", ctx=ctx, compaction=DropOldest(max_items=max_items))
        view = await session.get_items()
        assert [key for key, _ in ctx.reads] == ["items/window"]
        assert len(view) <= max_items
        assert_well_formed(view, history)
        for batch in random_turn(rng, turn):
            await session.add_items(batch)
            history.extend(batch)
        stored = json.loads(ctx.state["items/window"])["items"]
        assert len(stored) <= 2 * max_items + MAX_TURN_ITEMS  # the stored window is bounded too
    assert await RestateSession.history(ctx, layout="compacted") == history
    assert ctx.runs == []  # no model call


@pytest.mark.parametrize("policy", [Compaction(keep_last=2, summarize_after=6, summarizer=TokenSummariser()), DropOldest(3)])
async def test_random_operations_keep_the_archive_exact(policy: Compaction | DropOldest) -> None:
    rng = random.Random(11)
    ctx = FakeObjectContext()
    reference: list[dict] = []
    archived_at_some_point = False
    for step in range(500):
        session = await RestateSession.create(session_id="k", ctx=ctx, compaction=policy)
        view = await session.get_items()
        plain = view[1:] if view and view[0].get("role") == "system" else view
        assert reference[len(reference) - len(plain) :] == plain
        roll = rng.random()
        if roll < 0.75:
            batch = [{"role": "user", "content": f"u{step}-{i}"} for i in range(rng.randint(1, 3))]
            await session.add_items(batch)
            reference.extend(batch)
        elif roll < 0.98:  # pops reach into the archive once the window is empty
            assert await session.pop_item() == (reference.pop() if reference else None)
        else:
            await session.clear_session()
            reference.clear()
        assert await RestateSession.history(ctx, layout="compacted") == reference
        archived_at_some_point |= any(key.startswith("items/archive-") for key in ctx.state)
    assert archived_at_some_point


def test_cuts_never_split_a_call_from_its_output_or_a_reasoning_item_from_its_follower() -> None:
    items = [
        {"role": "user", "content": "u1"},                                    # 0
        {"type": "reasoning", "id": "rs_1", "summary": []},                   # 1
        {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},  # 2
        {"type": "function_call", "call_id": "b", "name": "f", "arguments": "{}"},  # 3
        {"type": "function_call_output", "call_id": "a", "output": "1"},      # 4
        {"type": "function_call_output", "call_id": "b", "output": "2"},      # 5
        {"type": "mcp_approval_request", "id": "ap", "name": "t", "arguments": "{}", "server_label": "s"},  # 6
        {"type": "mcp_approval_response", "approval_request_id": "ap", "approve": True},  # 7
        {"role": "assistant", "content": "done"},                             # 8
        {"type": "function_call", "call_id": "open", "name": "f", "arguments": "{}"},  # 9: output not yet there
        {"type": "reasoning", "id": "rs_2", "summary": []},                   # 10
    ]
    assert [s for s, ok in enumerate(safe_cuts(items, pin_open_calls=False)) if ok] == [0, 1, 6, 8, 9, 10]
    assert [s for s, ok in enumerate(safe_cuts(items, pin_open_calls=True)) if ok] == [0, 1, 6, 8, 9]


def test_policies_reject_settings_that_cannot_work() -> None:
    with pytest.raises(ValueError, match="must be larger than keep_last"):
        Compaction(keep_last=10, summarize_after=10)
    with pytest.raises(ValueError, match="at least 1 item"):
        DropOldest(max_items=0)


async def test_compacted_layout_is_chosen_by_the_policy_only() -> None:
    ctx = FakeObjectContext()
    with pytest.raises(ValueError, match="drop layout='append'"):
        await RestateSession.create(session_id="k", ctx=ctx, layout="append", compaction=DropOldest(4))
    with pytest.raises(ValueError, match="needs a policy"):
        await RestateSession.create(session_id="k", ctx=ctx, layout="compacted")
    session = await RestateSession.create(session_id="k", ctx=ctx)  # the default is still the docs' list
    await session.add_items([{"role": "user", "content": "hi"}])
    assert await ctx.get("items") == [{"role": "user", "content": "hi"}]
