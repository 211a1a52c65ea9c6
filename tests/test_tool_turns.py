"""Unit checks of the tool-call baton's bookkeeping (``integrations._tool_turns``) that need no
Restate server: when the invocation's batons count as quiet (the only time they poll the SDK)."""

from __future__ import annotations

import asyncio

from integrations._tool_turns import ToolTurn, _Polls, retire_when_superseded


def _polled(turn: ToolTurn, polls: _Polls | None = None) -> _Polls:
    """A stand-in for the invocation's polls, as ``enter`` finds them inside a handler."""
    polls = polls or _Polls()
    turn._polls = polls
    polls.join(turn)
    return polls


def test_a_call_expected_after_one_that_left_keeps_the_batons_busy_until_the_turn_is_retired() -> None:
    async def scenario() -> None:
        turn = ToolTurn(["a", "b"], strict=False)
        polls = _polled(turn)
        assert polls._quiet()  # no call arrived yet: whoever started the turn still runs
        async with turn.participate("a"):
            assert not polls._quiet()  # "a" runs
        assert not polls._quiet()  # the baton waits for "b", which the SDK is about to invoke
        turn.retire()  # ...unless the run gave up on it
        assert polls._quiet()

    asyncio.run(scenario())


def test_a_runner_starting_its_next_turn_or_ending_retires_the_previous_one() -> None:
    async def runner() -> tuple[ToolTurn, ToolTurn]:
        first = ToolTurn(["a", "b"], strict=False)
        retire_when_superseded(first)
        second = ToolTurn(["c"], strict=False)
        retire_when_superseded(second)
        assert first._retired and not second._retired
        return first, second

    async def scenario() -> None:
        first, second = await asyncio.create_task(runner())
        await asyncio.sleep(0)  # the done callbacks of the runner's task run
        assert first._retired and second._retired

    asyncio.run(scenario())


def test_a_call_waiting_on_its_own_tool_calls_does_not_count_as_running() -> None:
    async def scenario() -> None:
        outer = ToolTurn(["tool"], strict=False)
        polls = _polled(outer)
        async with outer.participate("tool"):
            assert not polls._quiet()  # the agent-as-tool call runs its nested runner

            async def nested_call() -> None:
                inner = ToolTurn(["inner"], strict=False)
                _polled(inner, polls)
                async with inner.participate("inner"):
                    assert not polls._quiet()  # the nested call runs; its parent waits for it
                    assert outer.idle()

            await asyncio.create_task(nested_call())
            assert not outer.idle()  # its nested call left: the parent runs again

    asyncio.run(scenario())
