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
concurrently. Who gets the baton next depends only on the order of earlier hand-overs, never on
timing:

1. the turn's expected calls enter first, in the order the model listed them;
2. then the parked calls resume first-parked-first: the head waits for its own future even when a
   later one is already done.

Every hand-over happens at a point fixed by the code (entering, awaiting a durable future,
returning), so the actions are issued in the same order on every replay. A call awaiting something
that is not a durable future (an HTTP request outside a step, ``asyncio.gather``) keeps the baton:
slower, still deterministic.

The turns of one invocation (and the ``ParallelAgent`` runs of ``integrations.google_adk``, which
use the same baton for their branches) share one poller, :class:`_Polls`: one task at a time polls
the SDK, for every parked future of every baton.

While a call waits for its own step, it also waits on the steps its parked siblings wait for. A
step's body runs in a task of its own, and its result is journaled only once the server confirms it.
On a server that ends the attempt as soon as the handler waits (a suspension), the first call whose
body finished would otherwise suspend the whole attempt while a sibling's body was still running;
that body is cancelled mid-way and runs again on the next attempt, although it may already have
acted. Waiting on every sibling's step keeps the attempt alive until each running body has handed
its result over (the SDK suspends only when none of the awaited steps is still executing).

Only calls the SDK is sure to invoke can be expected (no approval, no tool input guardrails, no
concurrency limit); a turn with any other call is *strict*: its calls run one at a time, to the
end, in the order they reach the tool.
"""

from __future__ import annotations

import asyncio
import weakref
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from restate import server_context as _server_context, wait_completed
from restate.exceptions import SdkInternalBaseException

__all__ = ["ToolTurn", "install_baton"]


@dataclass(eq=False)
class _Participant:
    call_id: str
    task: asyncio.Task[Any]
    go: asyncio.Event = field(default_factory=asyncio.Event)
    waits_for: Any = None  # the durable future it is parked on
    outer: tuple[ToolTurn, _Participant] | None = None  # the baton its task held before this one


class ToolTurn:
    """The baton of one model turn's tool calls (see the module docstring)."""

    def __init__(self, expected: Iterable[str], *, strict: bool, polls_when_settled: bool = False) -> None:
        self.strict = strict
        self.polls_when_settled = polls_when_settled
        """A parked participant polls the SDK only while no participant runs (``google_adk._branches``
        says why); otherwise it may poll as soon as the others had their chance to park."""
        self._polls: _Polls | None = None  # the invocation's, once a participant parked
        self._expected: list[str] = [] if strict else list(expected)
        self._next_entry = 0
        self._arrived: dict[str, _Participant] = {}
        self._finished: set[str] = set()
        self._parked: deque[_Participant] = deque()
        self._waiting: deque[_Participant] = deque()  # strict turns and unexpected calls, by arrival
        self._holder: _Participant | str | None = None  # a participant, or the call id the baton waits for
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
        me = _Participant(call_id, task)
        self._arrived[call_id] = me
        if self._holder == call_id:  # the baton was already waiting for this call
            self._holder = me
            me.go.set()
        elif call_id not in self._expected:
            self._waiting.append(me)
            self._dispatch()
        await self._resume(me)
        me.outer = _PARTICIPANTS.get(task)  # a baton this task already holds: back to it on release
        _PARTICIPANTS[task] = (self, me)

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
        self._leave(me)

    def _leave(self, me: _Participant) -> None:
        self._finished.add(me.call_id)
        if me in self._waiting:
            self._waiting.remove(me)
        if me in self._parked:
            self._parked.remove(me)
        if self._holder is me:
            self._holder = None
        self._dispatch()

    async def _park(self, me: _Participant, future: Any) -> Any:
        """Await ``future`` without the baton, then wait for the baton to come back."""
        if self.strict:
            return await _durable(future)
        polls = self._polls = _polls_of(future)
        polls.awaited.append(future)  # from now on, every round waits on it too
        self._holder = None
        me.go.clear()
        me.waits_for = future
        self._parked.append(me)
        self._dispatch()
        try:
            try:
                await self._alongside_siblings(me, future)
                result = await _Unparked(future)  # completed: takes the result, polls nothing
            finally:
                me.waits_for = None
                polls.awaited.remove(future)
        except Exception:  # journaled failures (TerminalError) come back in order too
            await self._resume(me)
            raise
        except BaseException:  # suspension, cancellation: the attempt is over, leave at once
            self._leave(me)
            raise
        await self._resume(me)
        return result

    async def _alongside_siblings(self, me: _Participant, future: Any) -> None:
        """Wait until ``future`` completes, waiting on the siblings' durable futures too, so the SDK
        does not suspend the attempt while one of their step bodies is still running (see the module
        docstring). Issues no journal command: which future completes first changes nothing.

        The waiting itself is the invocation's :class:`_Polls`: one task at a time polls the SDK for
        every durable future awaited in the invocation, this turn's and any other baton's.
        """
        for _ in range(_SETTLE_STEPS):  # let the calls the baton went to reach their own durable await
            if self._settled():
                break
            await asyncio.sleep(0)
        may_poll = self._may_poll if self.polls_when_settled else None
        await _polls_of(future).until_completed(future, may_poll=may_poll)

    def _may_poll(self) -> bool:
        """No participant runs or is about to: the baton is free, waits for one that has not arrived,
        or its holder is parked on a future that has not completed."""
        holder = self._holder
        if not isinstance(holder, _Participant):
            return True
        return holder.waits_for is not None and not holder.waits_for.is_completed()

    def _settled(self) -> bool:
        """Whether no call of the turn is on its way to a durable await: the baton is free, or its
        holder is itself waiting on a durable future."""
        holder = self._holder
        return holder is None or (isinstance(holder, _Participant) and holder.waits_for is not None)

    async def _resume(self, me: _Participant) -> None:
        try:
            await me.go.wait()
        except BaseException:
            self._leave(me)
            raise
        self._holder = me

    def _dispatch(self) -> None:
        """Give a free baton to whoever is next, or reserve it for an expected call not there yet."""
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
            queue = self._parked or self._waiting
            if queue:
                nxt = queue.popleft()
                self._holder = nxt
                nxt.go.set()
        if self._polls is not None:  # the baton changed hands: who may poll may have changed
            self._polls.nudge()


_SETTLE_STEPS = 100
"""How many event-loop turns a parking call waits at most for its siblings to park too, before it
waits on the futures parked so far (a sibling busy in a non-durable await does not settle)."""


class _Polls:
    """Who polls the Restate SDK for the batons of one invocation (every tool turn and parallel-agent
    run): one task at a time, for every durable future a participant of any of them is parked on.

    restate-sdk 1.3.0 hands each message from the server to ONE of the tasks polling it (they share
    one receive queue). A task polling beside another can miss the completion of its own future and
    wait for the next message, which may never come before the server's inactivity timeout ends the
    attempt: a branch of a ``ParallelAgent`` polling beside the tool calls of another branch would.
    So a participant that waits while another task polls waits for that round to end (or for a baton
    to change hands) and looks again; the round itself waits on every future parked at its start, so
    whichever completes first ends it. A future parked after a round began is waited on from the
    next round: a step body that only such a round starts runs a little later, never out of order.

    Once a round ends the attempt (a suspension), the tasks still waiting end as cancelled instead of
    each raising the suspension again: ADK's ``ParallelAgent`` passes on the error of a single failed
    branch, but not a group of them, and Restate recognises only the single suspension.
    """

    def __init__(self) -> None:
        self.awaited: list[Any] = []
        self.polling = False  # a task polls for everyone
        self.over = False  # a round ended the attempt
        self._changed = asyncio.Event()  # set when a round ends or a baton changes hands

    def nudge(self) -> None:
        """Wake the waiting tasks to look again."""
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    async def until_completed(self, future: Any, *, may_poll: Callable[[], bool] | None = None) -> None:
        """Return once ``future`` is completed; poll for everyone meanwhile if no one else does (and
        ``may_poll`` allows it)."""
        self.awaited.append(future)
        try:
            while not future.is_completed():
                if self.over:
                    raise asyncio.CancelledError("the attempt is over: another task raised its suspension")
                if self.polling or (may_poll is not None and not may_poll()):
                    await self._changed.wait()  # look again when the round ends or a baton moves
                    continue
                pending: list[Any] = []
                for awaited in self.awaited:
                    if not awaited.is_completed() and not any(awaited is p for p in pending):
                        pending.append(awaited)
                self.polling = True
                try:
                    await wait_completed(*pending)
                except SdkInternalBaseException:
                    self.over = True
                    raise
                finally:
                    self.polling = False
                    self.nudge()
        finally:
            self.awaited.remove(future)


_POLLS_KEY = "durable-agents.polls"


def _polls_of(future: Any) -> _Polls:
    """The invocation's :class:`_Polls`, kept in its context's extension data (one per attempt)."""
    data: dict[str, Any] = future.context.extension_data
    polls = data.get(_POLLS_KEY)
    if polls is None:
        polls = data[_POLLS_KEY] = _Polls()
    return polls


async def _durable(future: Any) -> Any:
    """Await a durable future without a baton, polling through the invocation's :class:`_Polls`."""
    await _polls_of(future).until_completed(future)
    return await _Unparked(future)


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
