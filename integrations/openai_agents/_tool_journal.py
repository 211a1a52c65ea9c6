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
step inside a step. What a journaled body changes in the user's run context is journaled with its
result and set again on a replay (``_run_context``).

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
from typing import Any, Literal, TypeVar

import restate
from agents.exceptions import AgentsException, UserError
from agents.guardrail import GuardrailFunctionOutput, InputGuardrail, OutputGuardrail
from agents.run_context import RunContextWrapper
from agents.tool import FunctionTool, Tool, invoke_function_tool
from agents.tool_context import ToolContext
from pydantic import BaseModel, TypeAdapter

from .._code import code_names
from .._context import running_context
from .._journal import journal_limited
from ..tracing._steps import journal_step
from ._hooks import fire_tool_end_hooks, fire_tool_start_hooks
from ._run_context import changed_state, context_state, restore_state
from ._scope import DURABLE_TOOL_ATTR, in_step, inside_step, invocation_scope, no_context_in_step
from ._tool_errors import as_agent_terminal_error, rebuilt_sdk_error

__all__ = [
    "ToolKind",
    "classify_guardrail",
    "classify_tool",
    "journaled_guardrail",
    "make_tools_durable",
    "not_journaled",
]

ToolKind = Literal["journaled", "own-steps"]
"""How a durable run treats a function tool: its body journaled as one step, or run as it is
(the tool does its own durable steps, or opted out)."""

_CHOICE = "_durable_agents_journal"
"""Attribute set on a FunctionTool by :func:`not_journaled` / ``durable_function_tool(journal=...)``."""


_CONTEXT_LOOKUPS = frozenset({"current_context", "running_context"})
_TOOL_ERROR_TYPE = "durable-agents-tool-error"
_TOOL_ERROR_CAUSE = "durable-agents-tool-error-cause"
"""The class of the exception the tool body raised (the SDK's ``UserError`` is raised ``from`` it)."""
_TOOL_ERROR_CAUSE_TEXT = "durable-agents-tool-error-cause-text"


_Opted = TypeVar("_Opted", FunctionTool, InputGuardrail[Any], OutputGuardrail[Any])


def not_journaled(tool: _Opted) -> _Opted:
    """Run a tool's body (or a guardrail's function) again on every replay instead of journaling it
    as one step.

    For tools and guardrails that do durable steps of their own in a way the classification cannot
    see, or whose body must run on every attempt (it reads something that must be fresh). Returns
    its argument.
    """
    if isinstance(tool, InputGuardrail | OutputGuardrail):
        setattr(tool.guardrail_function, _CHOICE, "own-steps")
    else:
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
    return _classify_callable(_user_function(tool) or tool.on_invoke_tool)


def _classify_callable(function: Callable[..., Any]) -> ToolKind:
    """``own-steps`` when the first parameter is (or holds) a Restate type or the code looks the
    Restate context up; else ``journaled``."""
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
    if code is not None and code_names(code) & _CONTEXT_LOOKUPS:
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
    return _class_path(type(value))


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


_Wrapper = TypeVar("_Wrapper", bound=RunContextWrapper[Any])


def _guarded(wrapper: _Wrapper, step: str) -> _Wrapper:
    """``wrapper`` (a tool's or a guardrail's) with the Restate context replaced by a stand-in that
    fails loudly inside ``step``; unchanged when its context is the user's own."""
    if not isinstance(wrapper.context, restate.Context):
        return wrapper
    guarded = copy.copy(wrapper)
    object.__setattr__(guarded, "context", no_context_in_step(step))
    return guarded


def _envelope_options(step: str) -> restate.RunOptions[dict[str, Any]]:
    """How a journaled tool's or guardrail's envelope is written: a JSON dict, size-checked."""
    return restate.RunOptions(type_hint=dict, serde=journal_limited(step, type_hint=dict))


# -- wrapping --------------------------------------------------------------------------------------


@asynccontextmanager
async def _no_turn() -> AsyncIterator[None]:
    yield


async def _journaled_call(
    ctx: restate.Context, shadow: FunctionTool, tool_ctx: ToolContext[Any], arguments: str, annotation: Any
) -> Any:
    step = f"Tool: {shadow.name}"
    raised: list[BaseException] = []  # the body's exception on this run, to hand the caller as it is

    ran: list[bool] = []

    async def body() -> dict[str, Any]:
        ran.append(True)
        before = context_state(tool_ctx.context)
        async with inside_step(step):
            try:
                value = await invoke_function_tool(
                    function_tool=shadow, context=_guarded(tool_ctx, step), arguments=arguments
                )
            except restate.TerminalError:
                raise
            except AgentsException as error:  # the SDK re-raises its own exceptions unchanged
                raised.append(error)
                metadata = {_TOOL_ERROR_TYPE: _class_path(type(error)), **_cause_metadata(error.__cause__)}
                raise restate.TerminalError(str(error), 500, metadata) from error
            except Exception as error:  # the SDK wraps any other exception of a tool in UserError
                raised.append(error)
                metadata = {_TOOL_ERROR_TYPE: "agents.exceptions:UserError", **_cause_metadata(error)}
                raise restate.TerminalError(f"Error running tool {shadow.name}: {error}", 500, metadata) from error
            envelope = _encode(value, annotation, shadow.name)
            changes = changed_state(before, context_state(tool_ctx.context))
            if changes:
                envelope["context"] = changes
            return envelope

    options = _envelope_options(step)
    with journal_step(step):
        try:
            envelope = await ctx.run_typed(step, body, options)
        except restate.TerminalError as error:
            failure = _tool_failure(error)
            live = raised[0] if raised else None
            failure.__cause__ = (live.__cause__ if isinstance(live, AgentsException) else live) or _rebuilt_cause(error)
            raise failure from failure.__cause__
    if not ran and "context" in envelope:  # a replay: what the body changed in the run context
        restore_state(tool_ctx.context, envelope["context"])
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


def _class_path(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _cause_metadata(cause: BaseException | None) -> dict[str, str]:
    if cause is None:
        return {}
    return {_TOOL_ERROR_CAUSE: _class_path(type(cause)), _TOOL_ERROR_CAUSE_TEXT: str(cause)}


def _rebuilt_cause(error: restate.TerminalError) -> BaseException | None:
    """On a replay, the tool body's exception as journaled: its class (when importable) and text.

    Built without calling its ``__init__`` (whose signature is the user's), so only ``args`` and
    ``str()`` are the original's; a class that cannot be imported is read as ``Exception``.
    """
    metadata = error.metadata or {}
    path = metadata.get(_TOOL_ERROR_CAUSE)
    if path is None:
        return None
    try:
        cls: Any = _load(path)
    except (ImportError, AttributeError, ValueError):
        cls = Exception
    if not (isinstance(cls, type) and issubclass(cls, Exception)):
        cls = Exception
    cause: BaseException = cls.__new__(cls)
    cause.args = (metadata.get(_TOOL_ERROR_CAUSE_TEXT, ""),)
    return cause


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


# -- guardrails ------------------------------------------------------------------------------------


def classify_guardrail(function: Callable[..., Any]) -> ToolKind:
    """Whether a durable run journals a guardrail function's outcome as one step: as for tools, a
    guardrail that takes the Restate context or looks it up does its own steps, and
    :func:`not_journaled` opts one out."""
    choice = getattr(function, _CHOICE, None)
    if choice in ("journaled", "own-steps"):
        return choice  # type: ignore[no-any-return]
    return _classify_callable(function)


async def journaled_guardrail(
    ctx: restate.Context,
    name: str,
    function: Callable[[RunContextWrapper[Any], Any, Any], Any],
    context: RunContextWrapper[Any],
    agent: Any,
    value: Any,
) -> GuardrailFunctionOutput:
    """Run a guardrail function as the step ``"Guardrail: <name>"``: a replay returns its journaled
    outcome (tripwire and ``output_info``) without running it, so a moderation API it calls is paid
    once and a replay cannot trip where the first run did not. An exception it raises reaches the
    caller as in the plain SDK (the live one on the first run, rebuilt from the journal after)."""
    step = f"Guardrail: {name}"
    raised: list[BaseException] = []

    async def body() -> dict[str, Any]:
        async with inside_step(step):
            try:
                outcome = function(_guarded(context, step), agent, value)
                output = await outcome if inspect.isawaitable(outcome) else outcome
            except restate.TerminalError:
                raise
            except Exception as error:
                raised.append(error)
                raise restate.TerminalError(str(error), 500, _cause_metadata(error)) from error
        try:
            info = _encode(output.output_info, None, name)
        except restate.TerminalError:
            raise restate.TerminalError(
                f"guardrail {name!r} returned an output_info of type {type(output.output_info).__name__}, which "
                "cannot be journaled: return JSON data or a pydantic model, or wrap the guardrail with "
                "not_journaled(...) so it runs again on replay",
                status_code=500,
            ) from None
        return {"tripwire": bool(output.tripwire_triggered), "info": info}

    options = _envelope_options(step)
    with journal_step(step):
        try:
            envelope = await ctx.run_typed(step, body, options)
        except restate.TerminalError as error:
            if raised:
                raise raised[0] from raised[0].__cause__
            rebuilt = _rebuilt_cause(error)
            if rebuilt is None:
                raise
            raise rebuilt from None
    return GuardrailFunctionOutput(output_info=_decode(envelope["info"], None), tripwire_triggered=envelope["tripwire"])
