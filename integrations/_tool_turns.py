"""A deterministic order for the tool calls of one model turn that run concurrently (used by both
agent adapters: ``integrations.openai_agents`` and ``integrations.google_adk``).

Restate replays a handler by matching the durable actions it issues (steps, sleeps, awakeables,
calls, state) against the journal, IN ORDER. Concurrent tool calls issue their actions from
concurrent tasks, so the order depends on which tool's API answered first, and a replay, where
every journaled action completes at once, would issue them in another order: the journal no longer
matches, or two calls of the same tool swap results.

:class:`ToolTurn` gives one model turn's tool calls a baton. Only the holder runs Python code; a
holder that awaits a durable future (its journaled step, a ``ctx.sleep``, an awakeable, a service
call) gives the baton up while it waits, so the other calls run meanwhile and their steps execute
concurrently. Who gets the baton next depends only on what the journal says, never on timing:

1. the turn's expected calls enter first, in the order the model listed them;
2. then a parked call resumes once its future has completed, the first parked of those first. A
   call waiting for a person (an awakeable) or a timer does not hold up a sibling whose step is done.

Whether a future has completed is the Restate SDK's answer, and the SDK learns of completions only
when it is polled: it takes the server's notifications one at a time, in journal order, until one of
the futures polled for has completed. So the invocation's batons poll only while none of their
calls runs (:class:`_Polls`): every poll then waits on the same futures at the same point of the
run, on a replay as the first time, takes the same notifications, and every hand-over sees the same
completed futures. A call awaiting something that is not a durable future (an HTTP request outside a
step, ``asyncio.gather``) keeps the baton and counts as running: slower, still deterministic. A call
whose task waits for tool calls of its own (an agent used as a tool, a ``ParallelAgent`` branch
running its tools) does not count as running while one of those is in. A task that holds no baton
and awaits a durable future during a turn polls the SDK itself, as it would without this module.

A poll waits on every future a call of any baton is parked on. A step's body runs in a task of its
own, and its result is journaled only once the server confirms it. On a server that ends the
attempt as soon as the handler waits (a suspension), waiting on only one call's future would
suspend the whole attempt while a sibling's body was still running; that body is cancelled mid-way
and runs again on the next attempt, although it may already have acted. The SDK suspends only when
none of the awaited steps is still executing.

Only calls the SDK is sure to invoke can be expected (no approval, no tool input guardrails, no
concurrency limit); a turn with any other call is *strict*: its calls run one at a time, to the
end, in the order they reach the tool.
"""

from __future__ import annotations

import asyncio
import contextvars
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from restate import server_context as _server_context, wait_completed
from restate.exceptions import SdkInternalBaseException

from ._context import invocation_data, running_context

__all__ = ["ToolTurn", "install_baton", "retire_when_superseded"]


@dataclass(eq=False)
class _Participant:
    call_id: str
    task: asyncio.Task[Any]
    go: asyncio.Event = field(default_factory=asyncio.Event)
    waits_for: Any = None  # the durable future it is parked on
    holds_waiting: bool = False  # a strict turn's call waiting on a durable future, baton in hand
    outer: tuple[ToolTurn, _Participant] | None = None  # the baton its task held before this one
    parent: _Participant | None = None  # the call whose task started this one's (an agent as a tool)
    calls_in: int = 0  # calls started from this one's task that have entered a baton and not left


_HOLDING: contextvars.ContextVar[_Participant | None] = contextvars.ContextVar("durable_agents_holding", default=None)
"""The call whose baton the current task holds; tasks it starts inherit it, so a call entering a
baton from such a task knows the call that waits for it (its ``parent``)."""


class ToolTurn:
    """The baton of one model turn's tool calls (see the module docstring)."""

    def __init__(self, expected: Iterable[str], *, strict: bool) -> None:
        self.strict = strict
        self._polls: _Polls | None = None  # the invocation's, once a call entered
        self._expected: list[str] = [] if strict else list(expected)
        self._next_entry = 0
        self._arrived: dict[str, _Participant] = {}
        self._finished: set[str] = set()
        self._parked: deque[_Participant] = deque()
        self._waiting: deque[_Participant] = deque()  # strict turns and unexpected calls, by arrival
        self._holder: _Participant | str | None = None  # a participant, or the call id the baton waits for
        self._retired = False  # whoever started the turn has moved on (:meth:`retire`)
        self._dispatch()  # reserve the baton for the first expected call

    def expects(self, call_id: str) -> bool:
        return call_id in self._expected

    @property
    def complete(self) -> bool:
        """Every expected participant has left, and none that came unexpected is still in."""
        return all(call_id in self._finished for call_id in (*self._expected, *self._arrived))

    # -- participation ---------------------------------------------------------------------------

    @asynccontextmanager
    async def participate(self, call_id: str) -> AsyncIterator[None]:
        """Hold the baton for the tool call ``call_id`` while the body runs (parking at durable awaits)."""
        await self.enter(call_id)
        try:
            yield
        finally:
            self.release(call_id)

    async def enter(self, call_id: str) -> None:
        """Wait for the baton, then hold it for ``call_id`` in the current task until :meth:`release`."""
        task = asyncio.current_task()
        assert task is not None
        me = _Participant(call_id, task, parent=_HOLDING.get())
        if me.parent is not None:
            me.parent.calls_in += 1
        self._arrived[call_id] = me
        self._join_polls(running_context())
        if self._holder == call_id:  # the baton was already waiting for this call
            self._holder = me
            me.go.set()
        elif call_id not in self._expected:
            self._waiting.append(me)
            self._dispatch()
        self._nudge()  # a call arrived: its parent no longer runs, or this turn now does
        await self._resume(me)
        me.outer = _PARTICIPANTS.get(task)  # a baton this task already holds: back to it on release
        _PARTICIPANTS[task] = (self, me)
        _HOLDING.set(me)

    def release(self, call_id: str) -> None:
        """``call_id`` is done: the baton goes on. Safe to call again, and for a participant whose task
        ended without leaving (cancelled), so that the others are not kept waiting for it."""
        me = self._arrived.get(call_id)
        if me is None or call_id in self._finished:
            return
        entry = _PARTICIPANTS.get(me.task)
        if entry is not None and entry[1] is me:
            if me.outer is None:
                _PARTICIPANTS.pop(me.task, None)
            else:
                _PARTICIPANTS[me.task] = me.outer
        if asyncio.current_task() is me.task and _HOLDING.get() is me:
            _HOLDING.set(me.outer[1] if me.outer is not None else me.parent)
        self._leave(me)

    def _leave(self, me: _Participant) -> None:
        self._finished.add(me.call_id)
        if me.parent is not None:
            me.parent.calls_in -= 1
        if me in self._waiting:
            self._waiting.remove(me)
        if me in self._parked:
            self._parked.remove(me)
        if self._holder is me:
            self._holder = None
        self._dispatch()
        self._nudge()

    async def _park(self, me: _Participant, future: Any) -> Any:
        """Await ``future`` without running, then wait for the baton to come back (a strict turn's
        call keeps the baton while it waits: nothing else of its turn may run before it ends)."""
        polls = self._polls or self._join_polls(future.context)  # entered where no context was current
        assert polls is not None  # a durable future's context is the SDK's own
        polls.awaited.append(future)  # from now on, every poll waits on it too
        me.waits_for = future
        try:
            if self.strict:
                me.holds_waiting = True
                polls.nudge()  # the holder no longer runs
                try:
                    await polls.until(future.is_completed)
                finally:
                    me.holds_waiting = False
            else:
                self._holder = None
                me.go.clear()
                self._parked.append(me)
                self._dispatch()
                await polls.until(me.go.is_set)
        except BaseException:  # suspension, cancellation: the attempt is over, leave at once
            self._leave(me)
            raise
        finally:
            me.waits_for = None
            polls.awaited.remove(future)
        return await _Unparked(future)  # completed: takes the result (or raises its journaled failure)

    def _join_polls(self, ctx: Any) -> _Polls | None:
        """Count this turn in the :class:`_Polls` of ``ctx``'s invocation (kept in its extension data,
        one per attempt) from its first call on; none outside a handler."""
        if self._polls is None and ctx is not None:
            self._polls = invocation_data(ctx, _POLLS_KEY, _Polls)
        if self._polls is not None:
            self._polls.join(self)
        return self._polls

    def _nudge(self) -> None:
        if self._polls is not None:
            self._polls.nudge()

    def idle(self) -> bool:
        """None of this turn's calls runs Python code right now, or is about to: the baton is free,
        waits for a call before any call of the turn arrived (whoever started the turn still runs) or
        after the turn was retired, or its holder waits (a strict call on its future, or any call on
        tool calls of its own)."""
        holder = self._holder
        if holder is None:
            return True
        if isinstance(holder, str):
            return not self._arrived or self._retired
        return holder.holds_waiting or holder.calls_in > 0

    def retire(self) -> None:
        """The code that started this turn has moved on: the SDK will not invoke a call it still
        expects (the run raised before, or a call's task was cancelled before it entered), so waiting
        for that call must not keep the invocation's batons from polling forever."""
        self._retired = True
        self._nudge()

    async def _resume(self, me: _Participant) -> None:
        try:
            await me.go.wait()
        except BaseException:
            self._leave(me)
            raise
        self._holder = me

    def _dispatch(self) -> None:
        """Give a free baton to whoever is next (see the module docstring), or reserve it for an
        expected call not there yet."""
        if self._holder is not None:
            return
        while self._next_entry < len(self._expected):
            call_id = self._expected[self._next_entry]
            self._next_entry += 1
            if call_id in self._finished:
                continue
            arrived = self._arrived.get(call_id)
            if arrived is None:
                self._holder = call_id
            else:
                self._holder = arrived
                arrived.go.set()
            break
        else:
            nxt = next((p for p in self._parked if p.waits_for.is_completed()), None)
            if nxt is not None:
                self._parked.remove(nxt)
            elif not self._parked and self._waiting:
                nxt = self._waiting.popleft()
            if nxt is not None:
                self._holder = nxt
                nxt.go.set()
        self._nudge()  # the baton changed hands: whether everyone waits may have changed


class _Polls:
    """Who polls the Restate SDK for the batons of one invocation (every tool turn and parallel-agent
    run), and when: one task at a time, only while no call of any baton runs, for every durable
    future a call is parked on.

    Only while no call runs: the SDK takes notifications from the server while it is polled, and what
    it has taken is what ``is_completed()`` reports. A poll beside a running call would take them at
    moments set by timing, and the next hand-over would see a different set of completed futures on a
    replay. Polled only when everyone waits, a poll starts at the same point of the run every time,
    waits on the same futures, and ends at the same notification: the first of them in the journal.

    One task at a time: restate-sdk 1.3.0 hands each message from the server to ONE of the tasks
    polling it (they share one receive queue); a task polling beside another could miss the
    completion of its own future and wait for the next message, which may never come before the
    server's inactivity timeout ends the attempt.

    Once a poll ends the attempt (a suspension), the tasks still waiting end as cancelled instead of
    each raising the suspension again: ADK's ``ParallelAgent`` passes on the error of a single failed
    branch, but not a group of them, and Restate recognises only the single suspension.
    """

    def __init__(self) -> None:
        self.awaited: list[Any] = []
        self.turns: list[ToolTurn] = []  # with a call in, in the order they got one
        self.polling = False  # a task polls for everyone
        self.over = False  # a poll ended the attempt
        self._changed = asyncio.Event()  # set when a poll ends or a call starts or stops running

    def join(self, turn: ToolTurn) -> None:
        if turn not in self.turns:
            self.turns.append(turn)

    def nudge(self) -> None:
        """Wake the waiting tasks to look again."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def _quiet(self) -> bool:
        """No call of any baton runs; turns that are over are dropped on the way."""
        self.turns = [turn for turn in self.turns if not (turn.complete and turn.idle())]
        return all(turn.idle() for turn in self.turns)

    async def until(self, done: Callable[[], bool]) -> None:
        """Return once ``done()``; meanwhile poll for everyone whenever no call runs and no one else
        polls. After each poll the batons hand over to the calls whose futures completed."""
        while not done():
            if self.over:
                raise asyncio.CancelledError("the attempt is over: another task raised its suspension")
            pending: list[Any] = []
            for awaited in self.awaited:
                if not awaited.is_completed() and not any(awaited is p for p in pending):
                    pending.append(awaited)
            if self.polling or not pending or not self._quiet():
                await self._changed.wait()  # look again when a poll ends or a call starts or stops
                continue
            self.polling = True
            try:
                await wait_completed(*pending)
            except SdkInternalBaseException:
                self.over = True
                raise
            finally:
                self.polling = False
                for turn in self.turns:
                    turn._dispatch()
                self.nudge()


_POLLS_KEY = "durable-agents.polls"

_STARTED: weakref.WeakKeyDictionary[asyncio.Task[Any], ToolTurn] = weakref.WeakKeyDictionary()
"""The latest tool turn each task started (an agent runner's task)."""


def retire_when_superseded(turn: ToolTurn) -> None:
    """Retire ``turn`` (:meth:`ToolTurn.retire`) once the task that starts it now starts another turn
    or ends: a runner starts the next model turn only after the previous turn's calls, or after the
    run gave up on them."""
    task = asyncio.current_task()
    if task is None:
        return
    previous = _STARTED.get(task)
    if previous is None:
        task.add_done_callback(_retire_latest)  # once per task: only its latest turn is still active
    else:
        previous.retire()
    _STARTED[task] = turn


def _retire_latest(task: asyncio.Task[Any]) -> None:
    latest = _STARTED.pop(task, None)
    if latest is not None:
        latest.retire()


_PARTICIPANTS: weakref.WeakKeyDictionary[asyncio.Task[Any], tuple[ToolTurn, _Participant]] = weakref.WeakKeyDictionary()
"""Tasks running a tool call under a turn's baton; their durable awaits park."""

_ORIGINALS: dict[type, Any] = {}
"""Each future class's own ``__await__`` before :func:`install_baton` replaced it."""


class _Unparked:
    """Awaits a durable future the way the Restate SDK does, bypassing the baton."""

    __slots__ = ("future",)

    def __init__(self, future: Any) -> None:
        self.future = future

    def __await__(self) -> Generator[Any, Any, Any]:
        for klass in type(self.future).__mro__:
            original = _ORIGINALS.get(klass)
            if original is not None:
                return original(self.future)  # type: ignore[no-any-return]
        raise TypeError(f"{type(self.future).__name__} is not a Restate durable future")


def _patched_await(future: Any) -> Generator[Any, Any, Any]:
    task = asyncio.current_task() if _has_running_loop() else None
    entry = _PARTICIPANTS.get(task) if task is not None else None
    if entry is None:
        return _Unparked(future).__await__()
    turn, me = entry
    return turn._park(me, future).__await__()


def install_baton() -> None:
    """Route durable awaits of tool-call tasks through their turn's baton (idempotent).

    Awaiting a Restate durable future from any other task is unchanged: the patched ``__await__``
    looks the current task up and falls through when it holds no baton.
    """
    base: type = _server_context.ServerDurableFuture
    classes = [base, *(c for c in vars(_server_context).values() if isinstance(c, type) and issubclass(c, base))]
    for cls in classes:
        own = vars(cls).get("__await__")
        if own is None or own is _patched_await:
            continue
        _ORIGINALS[cls] = own
        setattr(cls, "__await__", _patched_await)  # noqa: B010 - patching the SDK's class, by name


def _has_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
