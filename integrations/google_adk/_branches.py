"""A ``ParallelAgent``'s branches run concurrently under ``DurablePlugin``, in a deterministic order.

ADK runs each branch of a ``ParallelAgent`` as a task of its own (``parallel_agent._merge_agent_run``)
and appends their events to the session in the order they arrive. Every append is a state write in
the journal, as is every model and tool step: branches left to themselves put them there in the
order their models and tools answered, and a replay, where every journaled step completes at once,
issues them in another order. Restate then stops the invocation with a journal mismatch (found by
running a ``ParallelAgent`` with tools on an always-replay server).

So one run of a ``ParallelAgent`` gets a baton (``integrations._tool_turns.ToolTurn``, the kind the
tool calls of one model turn share), its participants the branches, expected in the order of
``sub_agents``. A branch enters in its ``before_agent_callback`` (called in the branch's own task)
and leaves when that task ends, after ADK consumed its last event. Only the holder runs; a branch
awaiting a durable future (its model step, a journaled tool, a sleep) hands the baton on, so the
branches' model calls run side by side, while who runs next depends only on earlier hand-overs,
never on which model answered first. A branch's events reach the session while it holds the baton
(ADK's merge waits until each event is consumed before the branch goes on), so the session writes
follow the same order. A branch waiting for its own tool calls keeps the baton (the calls have a
turn of their own): tools of different branches do not overlap, model calls do.

A parked branch polls the SDK only while no branch runs (as every baton does). ADK's merge lets a
branch's ``BaseException`` (a Restate suspension) cancel the task consuming the events; if that task
is busy with an event at that moment (outside the merge), ADK re-raises a group of two errors
instead of the suspension, and Restate fails the attempt. While no branch runs, no event is being
consumed, and a suspension ends the attempt cleanly.
"""

from __future__ import annotations

from collections.abc import Iterable

from .._tool_turns import ToolTurn

__all__ = ["branch_baton"]


def branch_baton(order: Iterable[str]) -> ToolTurn:
    """The baton of one ``ParallelAgent`` run whose branches ``order`` names, in sub-agent order."""
    return ToolTurn(order, strict=False)
