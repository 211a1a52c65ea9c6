"""Tools the patterns offer to the model: local ones run as journaled steps, remote ones are
durable calls to other Restate services."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import restate
from pydantic import BaseModel, ValidationError

from integrations.litellm import ToolCall, tool

__all__ = [
    "LocalTool",
    "PendingToolResult",
    "RemoteTool",
    "Tool",
    "ToolFunction",
    "ToolInput",
    "start_tool_call",
    "tool_specs",
]

TOOL_ATTEMPTS = 3
"""Attempts per local tool step; after the last one the step fails with a TerminalError."""


@dataclass(frozen=True)
class ToolInput:
    """What a local tool function receives.

    ``arguments`` is the model's arguments, validated into the tool's ``parameters`` model when it
    has one (else the raw dict); ``request`` is the handler's input, so tools can use fields the
    model must not choose (such as ``user_id``).
    """

    arguments: Any
    request: BaseModel


ToolFunction = Callable[[ToolInput], Any]
"""A tool body, sync or async; it returns a string or anything JSON-encodable (or a pydantic model)."""


@dataclass(frozen=True)
class LocalTool:
    """A tool that runs inside the handler as one journaled step (``ctx.run``): exactly-once
    from the journal's point of view, retried on errors, and not re-run on replay."""

    name: str
    description: str
    fn: ToolFunction
    parameters: type[BaseModel] | None = None
    max_attempts: int = TOOL_ATTEMPTS


@dataclass(frozen=True)
class RemoteTool:
    """A tool that is a handler of another Restate service, called durably (``generic_call``).

    The model's arguments (validated by ``parameters`` if given) are the JSON input of
    ``service/handler``; its JSON output goes back to the model.
    """

    name: str
    description: str
    service: str
    handler: str = "run"
    parameters: type[BaseModel] | None = None
    key: str | None = None


Tool = LocalTool | RemoteTool


def tool_specs(tools: Sequence[Tool]) -> list[dict[str, Any]] | None:
    """The OpenAI function-tool definitions for ``tools`` (``None`` when there are none).

    The builders check that the names are unique (``unique_by_name``) when the service is built.
    """
    if not tools:
        return None
    return [tool(t.name, t.description, t.parameters.model_json_schema() if t.parameters else None) for t in tools]


def _to_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    return json.dumps(value, default=str)


async def resolve(result: Any) -> str:
    """Await a tool body's result if it is awaitable and turn it into text (the journaled value)."""
    if inspect.isawaitable(result):
        result = await result
    return _to_text(result)


async def invoke(fn: ToolFunction, tool_input: ToolInput) -> str:
    """Run a sync or async tool body; used as the body of its journaled step."""
    return await resolve(fn(tool_input))


@dataclass
class PendingToolResult:
    """A started tool call; ``await result()`` after the future completed gives the text for the model.

    ``tool`` and ``tool_input`` are set when the tool really runs (not for an unknown tool or
    invalid arguments, which are answered to the model at once), so a caller can act on each
    result, e.g. register a saga's compensation.
    """

    call: ToolCall
    future: restate.RestateDurableFuture[Any] | None = None
    immediate: str | None = None
    decode: Callable[[Any], str] = field(default=_to_text)
    tool: Tool | None = None
    tool_input: ToolInput | None = None

    async def result(self) -> str:
        if self.future is None:
            return self.immediate or ""
        return self.decode(await self.future)


def _decode_remote(raw: bytes) -> str:
    if not raw:
        return ""
    try:
        return _to_text(json.loads(raw))
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def parse_arguments(call: ToolCall, parameters: type[BaseModel] | None) -> tuple[Any, str | None]:
    """The validated arguments, or an error text to hand back to the model instead of running."""
    try:
        raw = json.loads(call.function.arguments or "{}")
    except ValueError as exc:
        return None, f"Invalid JSON arguments for {call.function.name}: {exc}"
    if parameters is None:
        return raw, None
    try:
        return parameters.model_validate(raw), None
    except ValidationError as exc:
        return None, f"Invalid arguments for {call.function.name}: {exc.errors(include_url=False)}"


def start_tool_call(
    ctx: restate.Context, call: ToolCall, tools: Sequence[Tool], request: BaseModel
) -> PendingToolResult:
    """Start one tool call without waiting, so a turn's calls can run concurrently.

    Unknown tools and invalid arguments are answered to the model (it can correct itself) instead
    of failing the invocation. Errors inside a tool follow Restate semantics: retried, and a
    ``TerminalError`` (or exhausted attempts) fails the caller when it awaits the result.
    """
    by_name = {t.name: t for t in tools}
    chosen = by_name.get(call.function.name)
    if chosen is None:
        return PendingToolResult(call, immediate=f"Tool not found: {call.function.name}")
    arguments, problem = parse_arguments(call, chosen.parameters)
    if problem is not None:
        return PendingToolResult(call, immediate=problem)
    tool_input = ToolInput(arguments=arguments, request=request)
    if isinstance(chosen, LocalTool):
        future = ctx.run_typed(
            chosen.name,
            invoke,
            restate.RunOptions(max_attempts=chosen.max_attempts),
            chosen.fn,
            tool_input,
        )
        return PendingToolResult(call, future=future, tool=chosen, tool_input=tool_input)
    payload = arguments.model_dump(mode="json") if isinstance(arguments, BaseModel) else arguments
    remote = ctx.generic_call(chosen.service, chosen.handler, arg=json.dumps(payload).encode(), key=chosen.key)
    return PendingToolResult(call, future=remote, decode=_decode_remote, tool=chosen, tool_input=tool_input)
