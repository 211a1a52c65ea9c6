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
import uuid
from typing import Any

import pytest

from integrations.openai_agents import Compaction, DropOldest, RestateSession
from integrations.openai_agents._compaction import SUMMARY_PREFIX, safe_cuts
from integrations.runtime import RestateServer, Stack
from integrations.testing import ModelCall, ModelRequest, Reply, ScriptedModel, ScriptedModelServer, text, tool_call
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import Effects
from ._fake_context import FakeObjectContext, as_dicts, as_items


# -- in process ------------------------------------------------------------------------------------
class TokenSummariser(ScriptedModel):
    """Answers with the sorted set of turn markers (``u<n>``) in its input, previous summary included:
    a summary that provably covers everything it was given."""

    def __init__(self) -> None:
        super().__init__(responder=self._summarise)
        self.largest_input = 0  # transcript lines (items) in the largest request

    def _summarise(self, call: ModelCall) -> Reply:
        text = " ".join(str(item["content"]) for item in call.items)
        transcript = text.split("Conversation to add to the summary:", 1)[1]
        self.largest_input = max(self.largest_input, len(transcript.strip().splitlines()))
        markers = sorted(set(re.findall(r"\bu\d+\b", text)), key=lambda m: int(m[1:]))
        return Reply(text=" ".join(markers))


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
        session = await RestateSession.create(session_id="k", ctx=ctx.restate, compaction=policy)
        view = as_dicts(await session.get_items())
        # a turn reads one small key, never the archive (the first also looks for a "list" history to adopt)
        assert [key for key, _ in ctx.reads] == (["items/window"] if turn else ["items/window", "items"])
        assert_well_formed(view, history)
        assert len(view) <= 1 + max(summarize_after, keep_last + MAX_TURN_ITEMS)
        if view and view[0].get("role") == "system":  # the summary covers exactly what left the view
            archived = {i["content"] for i in history[: len(history) - len(view) + 1] if i.get("role") == "user"}
            assert view[0]["content"] == SUMMARY_PREFIX + " ".join(sorted(archived, key=lambda m: int(m[1:])))
        for batch in random_turn(rng, turn):
            await session.add_items(as_items(batch))
            history.extend(batch)
        assert await RestateSession.history(ctx.restate, layout="compacted") == history
    assert summariser.request_count == len(ctx.runs) > 5
    assert all(name.endswith("(session summary)") for name in ctx.runs)
    assert len(history) > 4 * (summarize_after + MAX_TURN_ITEMS)


@pytest.mark.parametrize("max_items", [1, 6, 25])
async def test_drop_oldest_shows_at_most_max_items_and_archives_the_rest(max_items: int) -> None:
    rng = random.Random(max_items)
    ctx = FakeObjectContext()
    history: list[dict[str, Any]] = []
    for turn in range(150):
        ctx.reads.clear()
        session = await RestateSession.create(
            session_id="k", ctx=ctx.restate, compaction=DropOldest(max_items=max_items)
        )
        view = as_dicts(await session.get_items())
        assert [key for key, _ in ctx.reads] == (["items/window"] if turn else ["items/window", "items"])
        assert len(view) <= max_items
        assert_well_formed(view, history)
        for batch in random_turn(rng, turn):
            await session.add_items(as_items(batch))
            history.extend(batch)
        stored = json.loads(ctx.state["items/window"])["items"]
        assert len(stored) <= 2 * max_items + MAX_TURN_ITEMS  # the stored window is bounded too
    assert await RestateSession.history(ctx.restate, layout="compacted") == history
    assert ctx.runs == []  # no model call


@pytest.mark.parametrize(
    "policy", [Compaction(keep_last=2, summarize_after=6, summarizer=TokenSummariser()), DropOldest(3)]
)
async def test_random_operations_keep_the_archive_exact(policy: Compaction | DropOldest) -> None:
    rng = random.Random(11)
    ctx = FakeObjectContext()
    reference: list[dict[str, Any]] = []
    archived_at_some_point = False
    for step in range(500):
        session = await RestateSession.create(session_id="k", ctx=ctx.restate, compaction=policy)
        view = as_dicts(await session.get_items())
        plain = view[1:] if view and view[0].get("role") == "system" else view
        assert reference[len(reference) - len(plain) :] == plain
        roll = rng.random()
        if roll < 0.75:
            batch = [{"role": "user", "content": f"u{step}-{i}"} for i in range(rng.randint(1, 3))]
            await session.add_items(as_items(batch))
            reference.extend(batch)
        elif roll < 0.98:  # pops reach into the archive once the window is empty
            assert await session.pop_item() == (reference.pop() if reference else None)
        else:
            await session.clear_session()
            reference.clear()
        assert await RestateSession.history(ctx.restate, layout="compacted") == reference
        archived_at_some_point |= any(key.startswith("items/archive-") for key in ctx.state)
    assert archived_at_some_point


async def test_turning_compaction_on_adopts_a_list_history_and_folds_it_in_bounded_calls() -> None:
    ctx = FakeObjectContext()
    session = await RestateSession.create(session_id="k", ctx=ctx.restate)  # the default list layout
    history = [{"role": "user" if n % 2 == 0 else "assistant", "content": f"u{n // 2}"} for n in range(200)]
    await session.add_items(as_items(history))
    summariser = TokenSummariser()
    policy = Compaction(keep_last=4, summarize_after=10, summarizer=summariser)
    session = await RestateSession.create(session_id="k", ctx=ctx.restate, compaction=policy)
    assert "items" not in ctx.state  # moved under the policy's keys
    view = as_dicts(await session.get_items())
    assert len(view) <= 1 + 10
    assert view[0]["content"].startswith(SUMMARY_PREFIX)
    assert summariser.request_count == len(ctx.runs) >= (200 - 10) // 10  # several bounded calls, not one huge one
    assert summariser.largest_input <= 10
    assert await RestateSession.history(ctx.restate, layout="compacted") == history
    ctx.reads.clear()
    await RestateSession.create(session_id="k", ctx=ctx.restate, compaction=policy)
    assert [key for key, _ in ctx.reads] == ["items/window"]


def test_cuts_never_split_a_call_from_its_output_or_a_reasoning_item_from_its_follower() -> None:
    items = [
        {"role": "user", "content": "u1"},  # 0
        {"type": "reasoning", "id": "rs_1", "summary": []},  # 1
        {"type": "function_call", "call_id": "a", "name": "f", "arguments": "{}"},  # 2
        {"type": "function_call", "call_id": "b", "name": "f", "arguments": "{}"},  # 3
        {"type": "function_call_output", "call_id": "a", "output": "1"},  # 4
        {"type": "function_call_output", "call_id": "b", "output": "2"},  # 5
        {"type": "mcp_approval_request", "id": "ap", "name": "t", "arguments": "{}", "server_label": "s"},  # 6
        {"type": "mcp_approval_response", "approval_request_id": "ap", "approve": True},  # 7
        {"role": "assistant", "content": "done"},  # 8
        {"type": "function_call", "call_id": "open", "name": "f", "arguments": "{}"},  # 9: output not yet there
        {"type": "reasoning", "id": "rs_2", "summary": []},  # 10
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
        await RestateSession.create(session_id="k", ctx=ctx.restate, layout="append", compaction=DropOldest(4))
    with pytest.raises(ValueError, match="needs a policy"):
        await RestateSession.create(session_id="k", ctx=ctx.restate, layout="compacted")
    session = await RestateSession.create(session_id="k", ctx=ctx.restate)  # the default is still the docs' list
    await session.add_items([{"role": "user", "content": "hi"}])
    assert await ctx.get("items") == [{"role": "user", "content": "hi"}]


# -- on the real server ----------------------------------------------------------------------------
APP = "tests/apps/compaction_app.py:app"
SUMMARIZER = "gpt-4o-mini"


def _markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\bm(\d+)\b", text)]


def chat_responder(request: ModelRequest) -> Reply:
    """Summaries name the range of turns they cover (bounded, like a real summary); a turn whose text
    says "look up" gets a tool call first, then an answer."""
    if request.model == SUMMARIZER:
        covered = _markers(" ".join(str(item.get("content")) for item in request.items))
        return text(f"turns m{min(covered)} to m{max(covered)}")
    last = request.last_user_text
    if "look up" in last and not request.tool_outputs():
        return tool_call("lookup", {"topic": last.split("look up ", 1)[1]})
    return text(f"answer to {last.split()[0]}")


def turn_message(turn: int) -> str:
    return f"m{turn} please look up topic{turn}" if turn % 3 == 2 else f"m{turn} hello"


def chatted(
    server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    service: str,
    turns: int,
    env: dict[str, str],
) -> tuple[Stack, str]:
    """Serve the app with ``env``, then have a fresh session of ``service`` say ``turns`` turns of
    :func:`turn_message`, each answered as :func:`chat_responder` answers it: the stack and the session key."""
    model_server.responder = chat_responder
    stack = serve(server, APP, model=model_server, env=env)
    key = f"{service}-{uuid.uuid4().hex}"
    for turn in range(turns):
        assert stack.ingress.call(service, "say", {"message": turn_message(turn)}, key=key) == f"answer to m{turn}"
    return stack, key


def main_requests(model_server: ScriptedModelServer) -> list[ModelRequest]:
    return [r for r in model_server.requests if r.model != SUMMARIZER]


def summary_requests(model_server: ScriptedModelServer) -> list[ModelRequest]:
    return [r for r in model_server.requests if r.model == SUMMARIZER]


def assert_request_is_well_formed(request: ModelRequest) -> None:
    """Every call in the input has its output and vice versa; a summary, if any, comes first."""
    items = request.items
    calls = [i["call_id"] for i in items if i.get("type") == "function_call"]
    outputs = [i["call_id"] for i in items if i.get("type") == "function_call_output"]
    assert sorted(calls) == sorted(outputs), f"orphaned call or output in {items}"
    for index, item in enumerate(items):
        if item.get("type") == "function_call_output":
            assert item["call_id"] in [i.get("call_id") for i in items[:index]], "output before its call"
    assert all(i.get("role") != "system" for i in items[1:]), "the summary must lead the input"


def journal_of(server: RestateServer, target: str) -> list[list[dict[str, Any]]]:
    """The journal entries of every invocation of ``target`` (``Service/key/handler``), oldest first."""
    invocations = server.query(f"SELECT id FROM sys_invocation WHERE target = '{target}' ORDER BY created_at")
    journals = []
    for row in invocations:
        entries = server.query(
            f'SELECT "index", entry_type, name, raw_length, entry_json FROM sys_journal '
            f"WHERE id = '{row['id']}' ORDER BY \"index\""
        )
        journals.append(entries)
    return journals


def state_reads(entries: list[dict[str, Any]]) -> tuple[list[str], int]:
    """The state keys one invocation read, and the journal bytes those reads took (an eager read
    journals the value in its command, a lazy read in the notification that completes it)."""
    keys, size = [], 0
    for entry in entries:
        if entry["entry_type"] in ("Command: GetEagerState", "Command: GetLazyState"):
            keys.append(next(iter(json.loads(entry["entry_json"])["Command"].values()))["key"])
        if entry["entry_type"] in ("Command: GetEagerState", "Notification: GetLazyState"):
            size += int(entry["raw_length"])
    return keys, size


def summary_steps(journals: list[list[dict[str, Any]]]) -> int:
    return sum(
        1
        for entries in journals
        for e in entries
        if e["entry_type"] == "Command: Run" and "(session summary)" in e.get("name", "")
    )


@pytest.mark.parametrize(("keep_last", "summarize_after"), [(3, 8), (6, 16)])
def test_long_session_keeps_model_input_bounded_and_archive_complete(
    restate_server: RestateServer,
    serve: ServeFactory,
    model_server: ScriptedModelServer,
    keep_last: int,
    summarize_after: int,
) -> None:
    turns = 60
    env = {"KEEP_LAST": str(keep_last), "SUMMARIZE_AFTER": str(summarize_after)}
    stack, key = chatted(restate_server, serve, model_server, "SummarizedChat", turns, env)

    # the model input stays bounded: the window (<= summarize_after items), the summary, this turn's items
    sizes = [len(r.items) for r in main_requests(model_server)]
    assert max(sizes) <= summarize_after + 4
    history = stack.ingress.call("SummarizedChat", "history", key=key)
    assert len(history) == turns * 2 + (turns // 3) * 2 > 3 * max(sizes)  # ...while the conversation is far longer

    # each request's input is valid, and the summary covers exactly the turns no longer in view
    for request in main_requests(model_server):
        assert_request_is_well_formed(request)
        turn = _markers(request.last_user_text)[0]
        in_view = {m for t in request.user_texts() for m in _markers(t)}
        summary = request.items[0]["content"] if request.items[0].get("role") == "system" else ""
        summarised = set(range(_markers(summary)[0], _markers(summary)[1] + 1)) if summary else set()
        assert summarised | in_view == set(range(turn + 1)) and not summarised & in_view, (turn, summary, in_view)
    assert main_requests(model_server)[-1].items[0]["content"].startswith(SUMMARY_PREFIX)

    # the archive keeps every item, in order, and the summary step was journaled once per compaction
    assert [i["content"] for i in history if i.get("role") == "user"] == [turn_message(t) for t in range(turns)]
    assert [i["role"] if "role" in i else i["type"] for i in history[:8]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
        "function_call",
        "function_call_output",
        "assistant",
    ]
    journals = journal_of(restate_server, f"SummarizedChat/{key}/say")
    assert len(journals) == turns
    assert summary_steps(journals) == len(summary_requests(model_server)) >= turns * 2 // summarize_after

    # a turn reads one key, the live window, and its size does not grow with the conversation
    reads = [state_reads(entries) for entries in journals]
    assert reads[0][0] == ["items/window", "items"]  # the first turn also looks for a "list" history to adopt
    assert all(keys == ["items/window"] for keys, _ in reads[1:]), reads[:3]
    read_bytes = [size for _, size in reads[1:]]
    assert max(read_bytes[turns // 2 :]) <= 1.5 * max(read_bytes[: turns // 2])
    assert max(read_bytes) * 3 < len(json.dumps(history))


def test_drop_oldest_bounds_the_model_input_without_a_model_call(
    restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer
) -> None:
    stack, key = chatted(restate_server, serve, model_server, "WindowedChat", 30, {"MAX_ITEMS": "5"})
    requests = main_requests(model_server)
    assert not summary_requests(model_server)
    assert max(len(r.items) for r in requests) <= 5 + 3  # the window, the new input, one tool call and output
    for request in requests:
        assert_request_is_well_formed(request)
        assert request.user_texts()[-1] == request.last_user_text
    history = stack.ingress.call("WindowedChat", "history", key=key)
    assert [i["content"] for i in history if i.get("role") == "user"] == [turn_message(t) for t in range(30)]
    reads = [state_reads(entries) for entries in journal_of(restate_server, f"WindowedChat/{key}/say")]
    assert all(keys == ["items/window"] for keys, _ in reads[1:])  # lazy state: nothing else reaches the turn
    assert max(size for _, size in reads[15:]) <= 1.5 * max(size for _, size in reads[:15])


def test_summary_call_is_journaled_once_under_replay(
    any_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer
) -> None:
    turns = 15
    stack, key = chatted(
        any_server, serve, model_server, "SummarizedChat", turns, {"KEEP_LAST": "2", "SUMMARIZE_AFTER": "5"}
    )
    summaries = summary_requests(model_server)
    journals = journal_of(any_server, f"SummarizedChat/{key}/say")
    # every summary request was made exactly once: one per journaled step, none repeated on replay
    assert len(summaries) == summary_steps(journals) >= 4
    prompts = [json.dumps(r.items) for r in summaries]
    assert len(set(prompts)) == len(prompts)
    assert len(main_requests(model_server)) == turns + turns // 3  # tool turns make two model calls
    history = stack.ingress.call("SummarizedChat", "history", key=key)
    assert [i["content"] for i in history if i.get("role") == "user"] == [turn_message(t) for t in range(turns)]


def test_service_kill_after_the_summary_does_not_summarise_again(
    restate_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.responder = chat_responder
    stack = serve(restate_server, APP, model=model_server, env={"KEEP_LAST": "2", "SUMMARIZE_AFTER": "6"})
    key = f"kill-{uuid.uuid4().hex}"
    for turn in range(4):  # 8 items stored: the next turn starts with a compaction
        stack.ingress.call("SummarizedChat", "say", {"message": f"m{turn} hello"}, key=key)
    assert not summary_requests(model_server)
    invocation = stack.ingress.send("SummarizedChat", "say", {"message": "m4 please look up slow-topic"}, key=key)
    effects.wait_for("lookup:slow-topic")  # the summary was made, then the model asked for the tool
    assert len(summary_requests(model_server)) == 1
    stack.kill_service()
    stack.start_service()
    effects.wait_for_count("lookup:slow-topic", 2)  # the unfinished tool step runs again...
    effects.open_gate("slow-topic")
    assert stack.ingress.attach(invocation) == "answer to m4"
    assert len(summary_requests(model_server)) == 1  # ...but the journaled summary is not requested again
    assert len(main_requests(model_server)) == 4 + 2
    final = main_requests(model_server)[-1]
    assert final.items[0]["content"] == SUMMARY_PREFIX + "turns m0 to m2"
    assert_request_is_well_formed(final)
