"""``durable_function_tool``: ``function_tool`` with Restate-aware error handling by default."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, Literal, overload

import restate
from agents.agent import AgentBase
from agents.function_schema import DocstringStyle
from agents.run_context import RunContextWrapper
from agents.tool import FunctionTool, ToolErrorFunction, function_tool
from agents.util._types import MaybeAwaitable

from .._context import running_context
from .._journal import journal_limited
from ..tracing._steps import journal_step
from ._tool_errors import ToolStepFailed, raise_restate_errors
from ._tool_journal import not_journaled

ToolFunction = Callable[..., Any]

OnExhausted = Literal["fail", "tell_model"]
"""What a journaled tool does once its attempts run out: fail the invocation, or tell the model."""

_RAISED_BY_TOOL = "durable-agents-raised-by-tool"
"""Metadata key marking a ``TerminalError`` the tool body raised itself (journaled with the failure).

Restate journals the step's failure with the same message whether the body raised
``TerminalError`` or the attempts ran out; only the former carries this mark, so a replay tells the
two apart from the journal alone."""


def _journaled(func: ToolFunction, step_name: str, max_attempts: int | None, on_exhausted: OnExhausted) -> ToolFunction:
    """Run the whole body of ``func`` as one ``ctx.run`` step: its result is journaled."""
    hints = typing.get_type_hints(func)
    return_type = hints.get("return")
    options: restate.RunOptions[Any] = restate.RunOptions(
        max_attempts=max_attempts, type_hint=return_type, serde=journal_limited(step_name, type_hint=return_type)
    )

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = running_context()
        if ctx is None:
            raise RuntimeError(f"tool {step_name!r} is journaled but runs outside a Restate handler")

        async def body() -> Any:
            try:
                result = func(*args, **kwargs)
                return await result if inspect.isawaitable(result) else result
            except restate.TerminalError as err:
                if on_exhausted == "fail":
                    raise
                metadata = {**(err.metadata or {}), _RAISED_BY_TOOL: "true"}
                raise restate.TerminalError(err.message, err.status_code, metadata) from err

        with journal_step(step_name):
            try:
                return await ctx.run_typed(step_name, body, options)
            except restate.TerminalError as err:
                raised_by_tool = _RAISED_BY_TOOL in (err.metadata or {})
                if on_exhausted == "fail" or raised_by_tool or err.status_code == 409:  # 409: cancelled
                    raise
                # The attempts ran out. The failure is journaled; its message (read back from the
                # journal on replay) is what the model is told, so every replay tells it the same.
                raise ToolStepFailed(step_name, err.message) from None

    return wrapper


@overload
def durable_function_tool(func: ToolFunction, /) -> FunctionTool: ...


@overload
def durable_function_tool(
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    docstring_style: DocstringStyle | None = None,
    use_docstring_info: bool = True,
    failure_error_function: ToolErrorFunction | None = raise_restate_errors,
    strict_mode: bool = True,
    is_enabled: bool | Callable[[RunContextWrapper[Any], AgentBase], MaybeAwaitable[bool]] = True,
    journal: bool | None = None,
    max_attempts: int | None = None,
    on_exhausted: OnExhausted = "fail",
) -> Callable[[ToolFunction], FunctionTool]: ...


def durable_function_tool(
    func: ToolFunction | None = None,
    /,
    *,
    name_override: str | None = None,
    description_override: str | None = None,
    docstring_style: DocstringStyle | None = None,
    use_docstring_info: bool = True,
    failure_error_function: ToolErrorFunction | None = raise_restate_errors,
    strict_mode: bool = True,
    is_enabled: bool | Callable[[RunContextWrapper[Any], AgentBase], MaybeAwaitable[bool]] = True,
    journal: bool | None = None,
    max_attempts: int | None = None,
    on_exhausted: OnExhausted = "fail",
) -> FunctionTool | Callable[[ToolFunction], FunctionTool]:
    """Like ``agents.function_tool``, with ``raise_restate_errors`` as the failure handler.

    ``journal=True`` runs the whole tool body as one journaled step named ``"Tool: <name>"``: on
    replay its recorded result is returned without running it again. Use it for tools whose body is
    one side effect (an API call); a journaled body must not itself call ``ctx.run`` or other
    context actions. ``journal=False`` runs the body as it is on every replay (a tool doing its own
    durable steps). Left unset, a durable run decides as for any ``function_tool``: a tool that takes
    the Restate context runs as it is, any other is journaled as one step (``not_journaled``).
    ``max_attempts`` bounds the step's retries. When they run out the step's
    failure is journaled and, by default (``on_exhausted="fail"``), the ``TerminalError`` ends the
    invocation. With ``on_exhausted="tell_model"`` the model is told instead (through
    ``failure_error_function``) and the run goes on; the text comes from the journaled failure, so a
    replay tells the model the same thing. A ``TerminalError`` the body raises itself always ends
    the invocation.
    """
    if on_exhausted not in ("fail", "tell_model"):
        raise ValueError(f"on_exhausted must be 'fail' or 'tell_model', got {on_exhausted!r}")
    if on_exhausted == "tell_model":
        if journal is not True:
            raise ValueError("on_exhausted='tell_model' needs journal=True: only a journaled tool has attempts")
        if max_attempts is None:
            raise ValueError("on_exhausted='tell_model' needs max_attempts: without it the attempts never run out")
        if failure_error_function is None:
            raise ValueError("on_exhausted='tell_model' needs a failure_error_function to tell the model")

    def decorate(fn: ToolFunction) -> FunctionTool:
        step = f"Tool: {name_override or fn.__name__}"
        target = _journaled(fn, step, max_attempts, on_exhausted) if journal else fn
        tool = function_tool(
            target,
            name_override=name_override,
            description_override=description_override,
            docstring_style=docstring_style,
            use_docstring_info=use_docstring_info,
            failure_error_function=failure_error_function,
            strict_mode=strict_mode,
            is_enabled=is_enabled,
        )
        if journal is not None:  # journaled by its own wrapper, or told to run as it is: either way, as it is
            not_journaled(tool)
        return tool

    return decorate(func) if func is not None else decorate
