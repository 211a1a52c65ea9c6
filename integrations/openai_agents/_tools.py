"""``durable_function_tool``: ``function_tool`` with Restate-aware error handling by default."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, overload

import restate
from agents.agent import AgentBase
from agents.function_schema import DocstringStyle
from agents.run_context import RunContextWrapper
from agents.tool import FunctionTool, ToolErrorFunction, function_tool
from agents.util._types import MaybeAwaitable

from .._context import running_context
from ..tracing._steps import journal_step
from ._tool_errors import raise_restate_errors

ToolFunction = Callable[..., Any]


def _journaled(func: ToolFunction, step_name: str, max_attempts: int | None) -> ToolFunction:
    """Run the whole body of ``func`` as one ``ctx.run`` step: its result is journaled."""
    hints = typing.get_type_hints(func)
    return_type = hints.get("return")
    options: restate.RunOptions[Any] = restate.RunOptions(max_attempts=max_attempts, type_hint=return_type)

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = running_context()
        if ctx is None:
            raise RuntimeError(f"tool {step_name!r} is journaled but runs outside a Restate handler")

        async def body() -> Any:
            result = func(*args, **kwargs)
            return await result if inspect.isawaitable(result) else result

        with journal_step(step_name):
            return await ctx.run_typed(step_name, body, options)

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
    journal: bool = False,
    max_attempts: int | None = None,
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
    journal: bool = False,
    max_attempts: int | None = None,
) -> FunctionTool | Callable[[ToolFunction], FunctionTool]:
    """Like ``agents.function_tool``, with ``raise_restate_errors`` as the failure handler.

    ``journal=True`` runs the whole tool body as one journaled step named ``"Tool: <name>"``: on
    replay its recorded result is returned without running it again. Use it for tools whose body is
    one side effect (an API call); a journaled body must not itself call ``ctx.run`` or other
    context actions. ``max_attempts`` bounds the step's retries; when exhausted the step raises
    ``TerminalError``, which ends the invocation rather than being fed to the model.
    """

    def decorate(fn: ToolFunction) -> FunctionTool:
        target = _journaled(fn, f"Tool: {name_override or fn.__name__}", max_attempts) if journal else fn
        return function_tool(
            target,
            name_override=name_override,
            description_override=description_override,
            docstring_style=docstring_style,
            use_docstring_info=use_docstring_info,
            failure_error_function=failure_error_function,
            strict_mode=strict_mode,
            is_enabled=is_enabled,
        )

    return decorate(func) if func is not None else decorate
