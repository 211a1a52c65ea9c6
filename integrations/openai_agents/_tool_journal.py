"""Plain function tools journaled by default, and every function tool under its turn's baton.

A ``@function_tool`` written for the plain SDK does its work in its body: an API call, a random
number, a side effect. Replayed, that body would run again. Each such tool is journaled as ONE step,
``"Tool: <name>"``: the first run records what the tool returned (or the error text the SDK made of
its exception), and every replay returns that without running the body.

Tools that do their own durable steps keep running as they are: they take the Restate context
(``RunContextWrapper[restate.Context]``, as the Restate docs write tools), take a run context class
with a Restate-typed field (the Tour's ``BookingContext.restate_context``), or look it up with
``current_context()``; agents used as tools, MCP tools and ``durable_function_tool(journal=...)``
tools are left alone too. :func:`not_journaled` opts any tool out. A journaled tool that touches the
Restate context anyway fails with a ``TerminalError`` that names the fix, rather than journaling a
step inside a step.

Every function tool a durable model offers is wrapped in place once (:func:`make_tools_durable`):
the wrapper enters the tool call's :class:`~._turns.ToolTurn`, fires the deferred tool hooks, and
runs the body. Outside a Restate handler the wrapper calls the tool exactly as the SDK would.
"""

from __future__ import annotations

import copy
import functools
import importlib
import inspect
import typing
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import restate
from agents.exceptions import AgentsException, UserError
from agents.tool import FunctionTool, Tool, invoke_function_tool
from agents.tool_context import ToolContext
from pydantic import BaseModel, TypeAdapter

from .._context import running_context
from .._journal import journal_limited
from ..tracing._steps import journal_step
from ._hooks import fire_tool_end_hooks, fire_tool_start_hooks
from ._scope import DURABLE_TOOL_ATTR, in_step, inside_step, invocation_scope, no_context_in_step
from ._tool_errors import as_agent_terminal_error, rebuilt_sdk_error

__all__ = ["ToolKind", "classify_tool", "make_tools_durable", "not_journaled"]

ToolKind = Literal["journaled", "own-steps"]
"""How a durable run treats a function tool: its body journaled as one step, or run as it is
(the tool does its own durable steps, or opted out)."""

_CHOICE = "_durable_agents_journal"
"""Attribute set on a FunctionTool by :func:`not_journaled` / ``durable_function_tool(journal=...)``."""


_CONTEXT_LOOKUPS = frozenset({"current_context", "running_context"})
_TOOL_ERROR_TYPE = "durable-agents-tool-error"


def not_journaled(tool: FunctionTool) -> FunctionTool:
    """Run ``tool``'s body again on every replay instead of journaling it as one step.

    For tools that do durable steps of their own in a way the classification cannot see, or whose
    body must run on every attempt (it reads something that must be fresh). Returns ``tool``.
    """
    setattr(tool, _CHOICE, "own-steps")
    return tool


def _mentions_restate(annotation: Any, fields: bool = True) -> bool:
    """Whether a type is, contains or (for a run context class, one level deep) holds a field of a
    Restate type: the tour's ``RunContextWrapper[BookingContext]`` with ``restate_context: restate.Context``."""
    if isinstance(annotation, str):
        return "restate" in annotation
    if isinstance(annotation, type):
        if annotation.__module__.split(".")[0] == "restate":
            return True
        if fields and annotation.__module__ not in ("builtins", "typing"):
            try:
                hints = typing.get_type_hints(annotation)
            except Exception:  # unresolvable annotations: read them as written
                hints = dict(getattr(annotation, "__annotations__", {}))
            if any(_mentions_restate(hint, fields=False) for hint in hints.values()):
                return True
    return any(_mentions_restate(arg, fields) for arg in typing.get_args(annotation))


def _code_names(code: Any) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= _code_names(const)
    return names


def _user_function(tool: FunctionTool) -> Callable[..., Any] | None:
    try:
        function = tool.__wrapped__
    except Exception:  # a hand-built FunctionTool has no decorated function
        return None
    return function if callable(function) else None


def classify_tool(tool: FunctionTool) -> ToolKind:
    """Whether a durable run journals ``tool``'s body as one step (see the module docstring)."""
    choice = getattr(tool, _CHOICE, None)
    if choice in ("journaled", "own-steps"):
        return choice  # type: ignore[no-any-return]
    if tool._is_agent_tool or tool._is_codex_tool or tool._mcp_tool_binding is not None:
        return "own-steps"
    function = _user_function(tool) or tool.on_invoke_tool
    target = inspect.unwrap(function)
    try:
        parameters = list(inspect.signature(target).parameters.values())
    except (TypeError, ValueError):
        parameters = []
    if parameters:
        try:
            hints = typing.get_type_hints(target)
        except Exception:  # unresolvable string annotations: read them as written
            hints = {}
        first = hints.get(parameters[0].name, parameters[0].annotation)
        if _mentions_restate(first):
            return "own-steps"
    code = getattr(target, "__code__", None)
    if code is not None and _code_names(code) & _CONTEXT_LOOKUPS:
        return "own-steps"
    return "journaled"


# -- the journal encoding of a tool's output ------------------------------------------------------


def _json_native(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    if isinstance(value, list):
        return all(_json_native(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(key, str) and _json_native(item) for key, item in value.items())
    return False


def _model_path(value: BaseModel) -> str:
    cls = type(value)
    return f"{cls.__module__}:{cls.__qualname__}"


def _load(path: str) -> type[BaseModel]:
    module, _, qualname = path.partition(":")
    target: Any = importlib.import_module(module)
    for part in qualname.split("."):
        target = getattr(target, part)
    return target  # type: ignore[no-any-return]


def _encode(value: Any, annotation: Any, tool_name: str) -> dict[str, Any]:
    """``value`` as a JSON-safe envelope that :func:`_decode` turns back into an equal value."""
    if isinstance(value, str):
        return {"str": value}
    if annotation is not None:
        try:
            return {"typed": TypeAdapter(annotation).dump_python(value, mode="json")}
        except Exception:  # the value is not of the annotated type (e.g. None): try the others
            pass
    if _json_native(value):
        return {"json": value}
    if isinstance(value, BaseModel):
        return {"model": _model_path(value), "data": value.model_dump(mode="json")}
    if isinstance(value, list) and value and all(isinstance(item, BaseModel) for item in value):
        return {"models": [{"model": _model_path(item), "data": item.model_dump(mode="json")} for item in value]}
    raise restate.TerminalError(
        f"tool {tool_name!r} returned a {type(value).__name__}, which cannot be journaled: annotate its "
        "return type (a pydantic model, dataclass or JSON type), return a str, or wrap it with "
        "not_journaled(...) so it runs again on replay",
        status_code=500,
    )


def _decode(envelope: dict[str, Any], annotation: Any) -> Any:
    if "str" in envelope:
        return envelope["str"]
    if "typed" in envelope:
        return TypeAdapter(annotation).validate_python(envelope["typed"])
    if "json" in envelope:
        return envelope["json"]
    if "model" in envelope:
        return _load(envelope["model"]).model_validate(envelope["data"])
    return [_load(item["model"]).model_validate(item["data"]) for item in envelope["models"]]


def _return_annotation(tool: FunctionTool) -> Any:
    function = _user_function(tool)
    if function is None:
        return None
    try:
        hint = typing.get_type_hints(inspect.unwrap(function)).get("return")
    except Exception:
        return None
    if hint is None or hint is Any or hint is type(None) or inspect.isawaitable(hint):
        return None
    return hint


# -- the Restate context, refused inside a journaled body -----------------------------------------


def _guarded(tool_ctx: ToolContext[Any], tool_name: str) -> ToolContext[Any]:
    if not isinstance(tool_ctx.context, restate.Context):
        return tool_ctx
    guarded = copy.copy(tool_ctx)
    object.__setattr__(guarded, "context", no_context_in_step(f"Tool: {tool_name}"))
    return guarded


# -- wrapping --------------------------------------------------------------------------------------


@asynccontextmanager
async def _no_turn() -> AsyncIterator[None]:
    yield


async def _journaled_call(
    ctx: restate.Context, shadow: FunctionTool, tool_ctx: ToolContext[Any], arguments: str, annotation: Any
) -> Any:
    step = f"Tool: {shadow.name}"

    async def body() -> dict[str, Any]:
        async with inside_step(step):
            try:
                value = await invoke_function_tool(
                    function_tool=shadow, context=_guarded(tool_ctx, shadow.name), arguments=arguments
                )
            except restate.TerminalError:
                raise
            except AgentsException as error:  # the SDK re-raises its own exceptions unchanged
                raise restate.TerminalError(
                    str(error), 500, {_TOOL_ERROR_TYPE: f"{type(error).__module__}:{type(error).__qualname__}"}
                ) from error
            except Exception as error:  # the SDK wraps any other exception of a tool in UserError
                raise restate.TerminalError(
                    f"Error running tool {shadow.name}: {error}", 500, {_TOOL_ERROR_TYPE: "agents.exceptions:UserError"}
                ) from error
            return _encode(value, annotation, shadow.name)

    options: restate.RunOptions[dict[str, Any]] = restate.RunOptions(
        type_hint=dict, serde=journal_limited(step, type_hint=dict)
    )
    with journal_step(step):
        try:
            envelope = await ctx.run_typed(step, body, options)
        except restate.TerminalError as error:
            raise _tool_failure(error) from None
    return _decode(envelope, annotation)


def _tool_failure(error: restate.TerminalError) -> Exception:
    """A journaled tool failure as the exception the plain SDK would have raised: same class, same text."""
    path = (error.metadata or {}).get(_TOOL_ERROR_TYPE)
    if path is None:
        return as_agent_terminal_error(error)
    try:
        cls = _load(path)  # any importable class, not only a model
    except (ImportError, AttributeError):
        cls = UserError  # type: ignore[assignment]
    if not (isinstance(cls, type) and issubclass(cls, AgentsException)):
        cls = UserError  # type: ignore[assignment]
    return rebuilt_sdk_error(cls, error.message, error.status_code)  # type: ignore[arg-type]


def _wrap(tool: FunctionTool, kind: ToolKind) -> None:
    shadow = copy.copy(tool)  # the tool as the SDK built it: original invoker, timeout and all
    annotation = _return_annotation(tool) if kind == "journaled" else None
    original = tool.on_invoke_tool

    @functools.wraps(original)
    async def on_invoke_tool(tool_ctx: ToolContext[Any], arguments: str) -> Any:
        ctx = running_context()
        if ctx is None or in_step() is not None:  # outside Restate, or inside a step journaled whole
            return await (
                invoke_function_tool(function_tool=shadow, context=tool_ctx, arguments=arguments)
                if kind == "journaled"
                else original(tool_ctx, arguments)
            )
        scope = invocation_scope(ctx)
        call_id = tool_ctx.tool_call_id
        turn = scope.turn_for(call_id).participate(call_id) if scope is not None else _no_turn()
        async with turn:
            if scope is not None:
                await fire_tool_start_hooks(scope, call_id)
            if kind == "journaled":
                result = await _journaled_call(ctx, shadow, tool_ctx, arguments, annotation)
            else:
                result = await original(tool_ctx, arguments)
            if scope is not None:
                await fire_tool_end_hooks(scope, call_id, result)
        return result

    tool.on_invoke_tool = on_invoke_tool
    if kind == "journaled":
        tool.timeout_seconds = None  # the shadow applies the timeout inside the step, so a replay agrees
    setattr(tool, DURABLE_TOOL_ATTR, kind)


def make_tools_durable(tools: list[Tool]) -> None:
    """Wrap every function tool in ``tools`` once, in place (see the module docstring)."""
    for tool in tools:
        if isinstance(tool, FunctionTool) and getattr(tool, DURABLE_TOOL_ATTR, None) is None:
            _wrap(tool, classify_tool(tool))


def eligible_for_concurrency(tool: FunctionTool) -> bool:
    """Whether the SDK is sure to invoke every call of ``tool`` it receives (see ``ToolTurn``)."""
    return tool.needs_approval is False and not tool.tool_input_guardrails
