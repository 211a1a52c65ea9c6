"""ADK tools journaled by default: a replay returns the tool's journaled result, never runs its body.

A tool written for plain ADK does its work in its body: an API call, a random number, a side
effect. Replayed, that body would run again. Every tool a durable model offers (``DurableLlm``) is
wrapped in place once, so that each call is ONE journaled step, ``"Tool: <name>"``, recording:

- what the body returned (made JSON-safe: pydantic models become their JSON form), and
- what it did to its ``ToolContext``: state writes, escalation, a transfer, requested confirmations
  (``EventActions``), set again on a replay so the session and the flow see the same thing.

Tools that do their own durable steps keep running as they are (their steps are journaled
one by one): tools wrapped with :func:`not_journaled`, functions that look the Restate context up
(their code names ``restate_context``, ``current_context`` or ``running_context``), and agents used
as tools (``AgentTool``: its agent's model calls and tools are journaled themselves), and ADK's
``load_memory`` on a ``RestateMemoryService`` (its search is a journaled call). A journaled tool
that touches the Restate context anyway fails with a ``TerminalError`` naming the fix.

Errors: Restate's own (``TerminalError``, suspension) pass through. Inside the step, provider-style
errors (timeouts, connection errors, 429/5xx from an API the tool calls) are classified by
``integrations.errors`` and retried by Restate per the step's ``StepRetry``; anything else (a bug, a
``ValueError``) is journaled as the tool's error and raised after the step as :class:`ToolFailed`,
so ADK's ``on_tool_error_callback`` chain sees the same error on the first run and on every replay.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, Literal, TypeVar

import restate
from google.adk.tools.agent_tool import AgentTool
from google.adk.tools.base_tool import BaseTool
from google.adk.tools.function_tool import FunctionTool
from google.adk.tools.load_memory_tool import LoadMemoryTool
from google.adk.tools.tool_context import ToolContext
from pydantic_core import to_jsonable_python

from .._code import code_names
from .._context import running_context
from .._journal import journal_limited
from ..errors import to_restate_error
from ..retry import StepRetry, run_step
from ..tracing._steps import journal_step
from ._memory import RestateMemoryService
from ._scope import in_step, inside_step

__all__ = ["ToolFailed", "ToolKind", "classify_tool", "make_tools_durable", "not_journaled"]

ToolKind = Literal["journaled", "own-steps"]
"""How a durable run treats a tool: its body journaled as one step, or run as it is."""

_CHOICE = "_durable_agents_adk_journal"
_WRAPPED = "_durable_agents_adk_wrapped"
_CONTEXT_LOOKUPS = frozenset({"current_context", "running_context", "restate_context", "restate_object_context"})
_ERROR_KEY = "durable-agents-tool-error"

_Tool = TypeVar("_Tool", bound=BaseTool)

TOOL_RETRY = StepRetry(max_attempts=3)
"""Attempts of a journaled tool step whose body raised a retryable (transport or 5xx-like) error."""


class ToolFailed(restate.TerminalError):
    """A journaled tool's body raised: its class name and message, the same on every replay.

    ADK's ``on_tool_error_callback`` chain sees it as the tool's error (and may answer the model
    with it); when nothing handles it, it ends the invocation, since retrying the invocation would
    replay the same journaled error.
    """

    def __init__(self, tool: str, error_type: str, message: str) -> None:
        super().__init__(f"tool {tool!r} failed: {error_type}: {message}", 500)
        self.tool = tool
        self.error_type = error_type
        self.error_message = message


def not_journaled(tool: _Tool | Callable[..., Any]) -> Any:
    """Run a tool as it is on every attempt instead of journaling its body as one step.

    For tools that do durable steps of their own (``await restate_context().run_typed(...)``) in a way
    the classification cannot see, or whose body must run on every attempt. Takes a ``BaseTool`` or
    the plain function given to an agent's ``tools=[...]``, and returns it.
    """
    setattr(tool, _CHOICE, "own-steps")
    return tool


def classify_tool(tool: BaseTool) -> ToolKind:
    """Whether a durable run journals ``tool``'s body as one step (see the module docstring)."""
    function = getattr(tool, "func", None) if isinstance(tool, FunctionTool) else None
    for owner in (tool, function):
        if owner is not None and getattr(owner, _CHOICE, None) == "own-steps":
            return "own-steps"
    if isinstance(tool, AgentTool):
        return "own-steps"
    if function is not None:
        code = getattr(inspect.unwrap(function), "__code__", None)
        if code is not None and code_names(code) & _CONTEXT_LOOKUPS:
            return "own-steps"
    return "journaled"


def make_tools_durable(tools: dict[str, BaseTool], retry: StepRetry | None = None) -> None:
    """Wrap each tool's ``run_async`` in place (once): journaled tools become one step per call."""
    for tool in tools.values():
        if getattr(tool, _WRAPPED, False):
            continue
        if classify_tool(tool) == "journaled":
            _journal(tool, retry or TOOL_RETRY)
        setattr(tool, _WRAPPED, True)


def _journal(tool: BaseTool, retry: StepRetry) -> None:
    original = tool.run_async

    @functools.wraps(original)
    async def run_async(*, args: dict[str, Any], tool_context: ToolContext) -> Any:
        ctx = running_context()
        if ctx is None or in_step() is not None:  # outside Restate, or inside a step journaled whole
            return await original(args=args, tool_context=tool_context)
        if _searches_restate_memory(tool, tool_context):  # its one durable action is the journaled search
            return await original(args=args, tool_context=tool_context)
        return await _journaled_call(ctx, tool, original, args, tool_context, retry)

    tool.run_async = run_async  # type: ignore[method-assign]


def _searches_restate_memory(tool: BaseTool, tool_context: ToolContext) -> bool:
    """ADK's ``load_memory`` tool on a ``RestateMemoryService``: the search is a journaled call of its
    own, which a step's body could not make."""
    service = getattr(tool_context._invocation_context, "memory_service", None)
    return isinstance(tool, LoadMemoryTool) and isinstance(service, RestateMemoryService)


async def _journaled_call(
    ctx: restate.Context,
    tool: BaseTool,
    original: Callable[..., Any],
    args: dict[str, Any],
    tool_context: ToolContext,
    retry: StepRetry,
) -> Any:
    step = f"Tool: {tool.name}"
    before = _actions_of(tool_context)

    async def body() -> dict[str, Any]:
        async with inside_step(step):
            try:
                result = await original(args=args, tool_context=tool_context)
            except (restate.TerminalError, restate.exceptions.RetryableError):
                raise
            except Exception as exc:
                mapped = to_restate_error(exc, step=step, source="tool")
                if mapped is not exc:
                    raise mapped from exc
                return {_ERROR_KEY: {"type": type(exc).__name__, "message": str(exc)}}
        return {"result": to_jsonable_python(result, fallback=str), "actions": _changed(before, tool_context)}

    with journal_step(step):
        journaled = await run_step(ctx, step, body, retry, serde=journal_limited(step, type_hint=dict[str, Any]))
    error = journaled.get(_ERROR_KEY)
    if isinstance(error, dict):
        raise ToolFailed(tool.name, str(error.get("type")), str(error.get("message")))
    _apply(journaled.get("actions") or {}, tool_context)
    return journaled.get("result")


def _actions_of(tool_context: ToolContext) -> dict[str, Any]:
    dumped: dict[str, Any] = tool_context.actions.model_dump(mode="json", exclude_defaults=True)
    return dumped


def _changed(before: dict[str, Any], tool_context: ToolContext) -> dict[str, Any]:
    """The ``EventActions`` fields the body changed (state writes as a delta of their own)."""
    after = _actions_of(tool_context)
    return {key: value for key, value in after.items() if before.get(key) != value}


def _apply(changed: dict[str, Any], tool_context: ToolContext) -> None:
    """Set again on a replay (and after the first run: harmless) what the body did to its context.

    State writes go through ``tool_context.state`` so the session's in-memory state sees them too,
    as it did when the body wrote them.
    """
    if not changed:
        return
    actions = type(tool_context.actions).model_validate(changed)
    for key, value in (changed.get("state_delta") or {}).items():
        tool_context.state[key] = value
    for name in changed:
        if name == "state_delta":
            continue
        setattr(tool_context.actions, name, getattr(actions, name))
