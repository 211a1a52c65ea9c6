"""Lifecycle hooks that fire once, however often the run is replayed.

The SDK calls ``RunHooks``/``AgentHooks`` from the run's code path, and a replay walks that path
again: a counter in ``on_llm_start`` would count every replay. Under a durable run each hook the
user overrides is journaled as a step of its own, ``"Hook: <name>"``, whose body calls the hook: a
replay finds the step done and does not call it again. Hooks the user did not override cost nothing.

Tool hooks are the exception to "where the SDK calls them": the SDK calls ``on_tool_start`` from
each concurrent tool task before the tool runs, at a moment set by scheduling. For a tool the
adapter wrapped, the hook is deferred: the tool's wrapper fires ``on_tool_start`` once it holds its
turn's baton, and ``on_tool_end`` (with the tool's own result) before it gives the baton back, so
both land at the same place in the journal on every replay; the SDK's later ``on_tool_end`` call for
that tool call is then skipped.

A hook that raises fails its step for good (a ``TerminalError`` naming the hook): re-running the
invocation would skip the journaled hook and take another path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import restate
from agents.agent import Agent
from agents.items import ModelResponse, TResponseInputItem
from agents.lifecycle import AgentHooks, AgentHooksBase, RunHooks, RunHooksBase
from agents.run_context import AgentHookContext, RunContextWrapper
from agents.tool import Tool
from agents.tool_context import ToolContext

from .._context import running_context
from ._scope import DURABLE_TOOL_ATTR, in_step, inside_step, invocation_scope
from ._tool_errors import as_agent_terminal_error

if TYPE_CHECKING:
    from ._scope import InvocationScope

__all__ = ["JournaledAgentHooks", "JournaledRunHooks", "PendingToolHooks", "journaled_hooks"]

HookCall = Callable[[], Awaitable[None]]


@dataclass
class PendingToolHooks:
    """The tool hooks of one tool call, deferred until the call holds its turn's baton."""

    starts: list[tuple[str, HookCall]] = field(default_factory=list)
    ends: list[tuple[str, Callable[[object], Awaitable[None]]]] = field(default_factory=list)
    ended: bool = False


async def journal_hook(name: str, call: HookCall) -> None:
    """Run one hook call as the journaled step ``"Hook: <name>"`` (directly outside Restate)."""
    ctx = running_context()
    if ctx is None or in_step() is not None:
        await call()
        return
    step = f"Hook: {name}"

    async def body() -> None:
        async with inside_step(step):
            try:
                await call()
            except Exception as error:
                raise restate.TerminalError(f"hook {name} raised {type(error).__name__}: {error}") from error

    try:
        await ctx.run_typed(step, body, restate.RunOptions(type_hint=type(None)))
    except restate.TerminalError as error:
        raise as_agent_terminal_error(error) from None


def _overrides(hooks: object, base: type, name: str) -> bool:
    return getattr(type(hooks), name, None) is not getattr(base, name)


def _deferrable(context: RunContextWrapper[Any], tool: Tool) -> tuple[InvocationScope, str] | None:
    """The scope and call id to defer a tool hook to, when the tool's wrapper will fire it."""
    if getattr(tool, DURABLE_TOOL_ATTR, None) is None or not isinstance(context, ToolContext):
        return None
    ctx = running_context()
    if ctx is None or in_step() is not None:
        return None
    scope = invocation_scope(ctx)
    return (scope, context.tool_call_id) if scope is not None else None


async def fire_tool_start_hooks(scope: InvocationScope, call_id: str) -> None:
    pending = scope.tool_hooks.get(call_id)
    if pending is None:
        return
    starts, pending.starts = pending.starts, []
    for name, call in starts:
        await journal_hook(name, call)


async def fire_tool_end_hooks(scope: InvocationScope, call_id: str, result: object) -> None:
    pending = scope.tool_hooks.get(call_id)
    if pending is None:
        return
    for name, end in pending.ends:
        await journal_hook(name, lambda end=end: end(result))  # type: ignore[misc]
    pending.ended = True


def _tool_end_fired(context: RunContextWrapper[Any], tool: Tool) -> bool:
    deferred = _deferrable(context, tool)
    if deferred is None:
        return False
    scope, call_id = deferred
    pending = scope.tool_hooks.get(call_id)
    return pending is not None and pending.ended


class _JournaledCalls:
    """The hooks ``RunHooks`` and ``AgentHooks`` share (model calls and tools), journaled the same way
    for both: only the base class that tells an override apart and the step-name prefix differ."""

    _base: ClassVar[type]
    _prefix: ClassVar[str]
    inner: RunHooksBase[Any, Any] | AgentHooksBase[Any, Any]

    def _overridden(self, name: str) -> bool:
        return _overrides(self.inner, self._base, name)

    async def _fire(self, name: str, call: HookCall) -> None:
        if self._overridden(name):
            await journal_hook(self._prefix + name, call)

    async def on_llm_start(
        self,
        context: RunContextWrapper[Any],
        agent: Agent[Any],
        system_prompt: str | None,
        input_items: list[TResponseInputItem],
    ) -> None:
        await self._fire("on_llm_start", lambda: self.inner.on_llm_start(context, agent, system_prompt, input_items))

    async def on_llm_end(self, context: RunContextWrapper[Any], agent: Agent[Any], response: ModelResponse) -> None:
        await self._fire("on_llm_end", lambda: self.inner.on_llm_end(context, agent, response))

    async def on_tool_start(self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool) -> None:
        starts = self._overridden("on_tool_start")
        ends = self._overridden("on_tool_end")
        if not starts and not ends:
            return
        deferred = _deferrable(context, tool)
        if deferred is None:
            await self._fire("on_tool_start", lambda: self.inner.on_tool_start(context, agent, tool))
            return
        scope, call_id = deferred
        pending = scope.tool_hooks.setdefault(call_id, PendingToolHooks())
        if starts:
            pending.starts.append(
                (self._prefix + "on_tool_start", lambda: self.inner.on_tool_start(context, agent, tool))
            )
        if ends:
            pending.ends.append(
                (self._prefix + "on_tool_end", lambda result: self.inner.on_tool_end(context, agent, tool, result))
            )

    async def on_tool_end(self, context: RunContextWrapper[Any], agent: Agent[Any], tool: Tool, result: object) -> None:
        if _tool_end_fired(context, tool):
            return
        await self._fire("on_tool_end", lambda: self.inner.on_tool_end(context, agent, tool, result))


class JournaledRunHooks(_JournaledCalls, RunHooks[Any]):
    """``RunHooks`` whose overridden hooks are journaled steps (see the module docstring)."""

    _base = RunHooksBase
    _prefix = ""

    def __init__(self, inner: RunHooksBase[Any, Any]) -> None:
        self.inner: RunHooksBase[Any, Any] = inner

    async def on_agent_start(self, context: AgentHookContext[Any], agent: Agent[Any]) -> None:
        await self._fire("on_agent_start", lambda: self.inner.on_agent_start(context, agent))

    async def on_agent_end(self, context: AgentHookContext[Any], agent: Agent[Any], output: Any) -> None:
        await self._fire("on_agent_end", lambda: self.inner.on_agent_end(context, agent, output))

    async def on_handoff(self, context: RunContextWrapper[Any], from_agent: Agent[Any], to_agent: Agent[Any]) -> None:
        await self._fire("on_handoff", lambda: self.inner.on_handoff(context, from_agent, to_agent))


class JournaledAgentHooks(_JournaledCalls, AgentHooks[Any]):
    """``AgentHooks`` whose overridden hooks are journaled steps (see the module docstring)."""

    _base = AgentHooksBase
    _prefix = "agent "

    def __init__(self, inner: AgentHooksBase[Any, Any]) -> None:
        self.inner: AgentHooksBase[Any, Any] = inner

    async def on_start(self, context: AgentHookContext[Any], agent: Agent[Any]) -> None:
        await self._fire("on_start", lambda: self.inner.on_start(context, agent))

    async def on_end(self, context: AgentHookContext[Any], agent: Agent[Any], output: Any) -> None:
        await self._fire("on_end", lambda: self.inner.on_end(context, agent, output))

    async def on_handoff(self, context: RunContextWrapper[Any], agent: Agent[Any], source: Agent[Any]) -> None:
        await self._fire("on_handoff", lambda: self.inner.on_handoff(context, agent, source))


def journaled_hooks(hooks: RunHooksBase[Any, Any] | None) -> RunHooksBase[Any, Any] | None:
    """``hooks`` journaled (``None`` stays ``None``; already journaled hooks are returned as they are)."""
    if hooks is None or isinstance(hooks, JournaledRunHooks):
        return hooks
    return JournaledRunHooks(hooks)


def make_agent_hooks_durable(agent: Agent[Any]) -> None:
    """Journal ``agent.hooks`` (once, in place); outside Restate they fire directly, as before."""
    hooks = agent.hooks
    if hooks is not None and not isinstance(hooks, JournaledAgentHooks):
        agent.hooks = JournaledAgentHooks(hooks)
