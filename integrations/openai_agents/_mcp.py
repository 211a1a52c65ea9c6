"""Durable MCP: every request an agent makes to an MCP server is a journaled Restate step.

The Agents SDK asks an agent's MCP servers for their tools at the start of every turn
(``agent.get_all_tools`` -> ``MCPUtil`` -> ``MCPServer.list_tools``) and calls a tool through
``MCPServer.call_tool``. Outside the journal, a replay would list tools from the live server (which
may have changed since, so the model sees different tools than it did) and a crash after a tool call
would repeat the call. :class:`DurableMCPServer` implements the SDK's ``MCPServer`` interface over any
server (``MCPServerStdio``, ``MCPServerStreamableHttp``, ...) and journals each request, so a replay
returns what the original run saw, without contacting the server at all.

The connection is opened lazily, by the first request that really runs (a replay opens none), and is
owned by a task of its own so ``connect()`` and ``cleanup()`` run in the same task, as the MCP client's
task groups require. After a service crash the new process simply connects again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import restate
from agents.agent import AgentBase
from agents.exceptions import UserError
from agents.mcp import MCPServer
from agents.run_context import RunContextWrapper
from agents.tool import ToolErrorFunction
from agents.tool_guardrails import ToolInputGuardrail, ToolOutputGuardrail
from mcp.types import (
    CallToolResult,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ReadResourceResult,
    Tool as MCPTool,
)
from pydantic import TypeAdapter
from restate.serde import Serde

from .._context import running_context
from ..errors import to_restate_error
from ._reachable import reachable_agents

__all__ = ["DurableMCPServer", "make_mcp_durable"]

T = TypeVar("T")


class _PydanticSerde(Serde[T], Generic[T]):
    """Journal encoding of MCP results: by alias and only the fields the server set, so a replayed
    value equals the original (the tool schemas the model sees stay byte-for-byte the same)."""

    def __init__(self, tp: Any) -> None:
        self._adapter: TypeAdapter[T] = TypeAdapter(tp)

    def serialize(self, obj: T | None) -> bytes:
        return self._adapter.dump_json(obj, by_alias=True, exclude_unset=True)  # type: ignore[arg-type]

    def deserialize(self, buf: bytes) -> T | None:
        return self._adapter.validate_json(buf)


_TOOLS: _PydanticSerde[list[MCPTool]] = _PydanticSerde(list[MCPTool])
_CALL: _PydanticSerde[CallToolResult] = _PydanticSerde(CallToolResult)
_PROMPTS: _PydanticSerde[ListPromptsResult] = _PydanticSerde(ListPromptsResult)
_PROMPT: _PydanticSerde[GetPromptResult] = _PydanticSerde(GetPromptResult)
_RESOURCES: _PydanticSerde[ListResourcesResult] = _PydanticSerde(ListResourcesResult)
_TEMPLATES: _PydanticSerde[ListResourceTemplatesResult] = _PydanticSerde(ListResourceTemplatesResult)
_READ: _PydanticSerde[ReadResourceResult] = _PydanticSerde(ReadResourceResult)


def _restate_error(exc: BaseException) -> BaseException:
    """Classify an MCP failure with the one error classifier (``integrations.errors``).

    The SDK wraps HTTP transport failures in ``UserError`` (keeping the transport error as the cause
    when it is safe to), so the cause is classified when the wrapper itself says nothing.
    """
    mapped = to_restate_error(exc, source="MCP server")
    cause = exc.__cause__
    if mapped is exc and isinstance(exc, UserError) and cause is not None:
        mapped_cause = to_restate_error(cause, source="MCP server")
        if mapped_cause is not cause:
            return mapped_cause
    return mapped


def _breaks_connection(exc: BaseException) -> bool:
    """Whether a failed request means the connection itself is unusable (reconnect on the retry).

    An MCP server's JSON-RPC answer (unknown tool, invalid params, an error inside the tool) comes
    over a healthy connection; anything else (closed pipe, dead process, lost HTTP session) does not.
    """
    code = getattr(exc, "code", None)
    if type(exc).__name__ in ("MCPError", "McpError") and isinstance(code, int):
        return code in (-32000, -32001)  # connection closed, request timeout
    return True


def _retrieve(task: asyncio.Task[None]) -> None:
    """A connection that died on its own is replaced by the next request; do not log it as unhandled."""
    if not task.cancelled():
        task.exception()


class _Connection:
    """One live connection to an MCP server, opened and closed by a task of its own."""

    def __init__(self, server: MCPServer) -> None:
        self.server = server
        self._owner: asyncio.Task[None] | None = None
        self._stop: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _user_managed(self) -> bool:
        """The application connected the server itself (e.g. with ``MCPServerManager``): use it as is."""
        session = getattr(self.server, "session", None)
        return self._owner is None and session is not None

    @property
    def open(self) -> bool:
        return self._connected()

    def _connected(self) -> bool:
        return self._owner is not None and not self._owner.done() and self._loop is asyncio.get_running_loop()

    async def ensure(self) -> None:
        """Connect if nobody has (servers without a ``session`` are assumed to manage themselves)."""
        if not hasattr(self.server, "session") or self._user_managed() or self.open:
            return
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop, self._owner = asyncio.Lock(), loop, None
        async with self._lock:
            if self._connected():  # another task may have connected while we waited for the lock
                return
            ready: asyncio.Future[None] = loop.create_future()
            self._stop = asyncio.Event()
            owner = asyncio.create_task(self._own(ready, self._stop), name=f"mcp-connection:{self.server.name}")
            owner.add_done_callback(_retrieve)
            self._owner = owner
            await asyncio.shield(ready)

    async def _own(self, ready: asyncio.Future[None], stop: asyncio.Event) -> None:
        try:
            await self.server.connect()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated
        except BaseException as exc:  # connect() cleans up after itself
            if not ready.done():
                ready.set_exception(exc)
            if isinstance(exc, Exception):
                return
            raise
        ready.set_result(None)
        try:
            await stop.wait()
        finally:
            # a broken transport may fail its own cleanup; the next connect starts afresh
            with contextlib.suppress(Exception):
                await self.server.cleanup()  # type: ignore[no-untyped-call]  # the SDK leaves it unannotated

    async def close(self) -> None:
        owner, stop = self._owner, self._stop
        self._owner = None
        if owner is None or stop is None or owner.done():
            return
        stop.set()
        if self._loop is asyncio.get_running_loop():
            await asyncio.wait({owner})  # its failure, if any, is the broken connection's, not ours

    async def failed(self, exc: BaseException) -> None:
        """Drop a connection we own once it is broken, so the step's retry connects afresh."""
        if self._owner is not None and _breaks_connection(exc):
            await self.close()


class DurableMCPServer(MCPServer):
    """An ``MCPServer`` whose every request is one journaled Restate step.

    - ``list_tools`` is journaled once per call, i.e. once per agent turn: a replay sees exactly
      the tools the model saw, without asking the server;
    - ``call_tool`` is journaled: a tool call that completed is never repeated after a crash or a
      suspension; its result (including an ``isError`` result, which goes to the model as the SDK
      does it) is replayed;
    - failures are classified by ``integrations.errors``: invalid requests fail the step at once
      (the SDK then tells the model, as it does for MCP errors), connection losses and timeouts
      are retried by Restate (reconnecting first) up to ``max_attempts`` attempts;
    - prompts and resources are journaled the same way.

    ``DurableRunner`` wraps the MCP servers of the agents it runs automatically (see
    :func:`make_mcp_durable`); wrap a server yourself to use it with plain ``Runner.run`` inside a
    handler. Outside a Restate handler the requests go straight to the server.

    The wrapped server is connected lazily by the first request that really runs and stays
    connected for the life of the process, shared by all invocations. A server the application
    connected itself (``await server.connect()``, ``MCPServerManager``) is used as it is.
    """

    def __init__(self, server: MCPServer, *, max_attempts: int = 3) -> None:
        if isinstance(server, DurableMCPServer):
            raise TypeError("server is already durable; wrapping it twice would journal every request twice")
        if max_attempts < 1:
            raise ValueError("max_attempts counts attempts and must be at least 1")
        # MCPServer.__init__ is not called: every setting below is read from the wrapped server.
        self.server = server
        self.max_attempts = max_attempts
        self._connection = _Connection(server)

    # -- the wrapped server's settings, read live ---------------------------------------------------
    @property
    def name(self) -> str:
        return self.server.name

    @property
    def use_structured_content(self) -> bool:  # type: ignore[override]
        return self.server.use_structured_content

    @property
    def tool_meta_resolver(self) -> Any:  # type: ignore[override]
        return getattr(self.server, "tool_meta_resolver", None)

    @property
    def custom_data_extractor(self) -> Any:  # type: ignore[override]
        return getattr(self.server, "custom_data_extractor", None)

    @property
    def tool_input_guardrails(self) -> list[ToolInputGuardrail[Any]] | None:  # type: ignore[override]
        return self.server.tool_input_guardrails

    @property
    def tool_output_guardrails(self) -> list[ToolOutputGuardrail[Any]] | None:  # type: ignore[override]
        return self.server.tool_output_guardrails

    @property
    def cached_tools(self) -> list[MCPTool] | None:
        return self.server.cached_tools

    def _get_needs_approval_for_tool(
        self, tool: MCPTool, agent: AgentBase | None
    ) -> bool | Callable[[RunContextWrapper[Any], dict[str, Any], str], Awaitable[bool]]:
        return self.server._get_needs_approval_for_tool(tool, agent)

    def _get_failure_error_function(
        self, agent_failure_error_function: ToolErrorFunction | None
    ) -> ToolErrorFunction | None:
        return self.server._get_failure_error_function(agent_failure_error_function)

    # -- lifecycle --------------------------------------------------------------------------------
    async def connect(self) -> None:
        """Connect now (normally not needed: the first request that runs connects)."""
        await self._connection.ensure()

    async def cleanup(self) -> None:
        """Close the connection this wrapper opened (a server connected by the application is left alone)."""
        await self._connection.close()

    # -- journaled requests -----------------------------------------------------------------------
    async def _step(self, name: str, request: Callable[[], Awaitable[T]], serde: Serde[T]) -> T:
        ctx = running_context()
        if ctx is None:
            await self._connection.ensure()
            return await request()

        async def attempt() -> T:
            try:
                await self._connection.ensure()
                return await request()
            except Exception as exc:
                await self._connection.failed(exc)
                mapped = _restate_error(exc)
                if mapped is exc:
                    raise
                raise mapped from exc

        options: restate.RunOptions[T] = restate.RunOptions(serde=serde, max_attempts=self.max_attempts)
        return await ctx.run_typed(name, attempt, options)

    async def list_tools(
        self, run_context: RunContextWrapper[Any] | None = None, agent: AgentBase | None = None
    ) -> list[MCPTool]:
        return await self._step(
            f"MCP list tools: {self.name}", lambda: self.server.list_tools(run_context, agent), _TOOLS
        )

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ) -> CallToolResult:
        def request() -> Awaitable[CallToolResult]:
            if meta is None:  # as the SDK calls it: servers written before ``meta`` existed keep working
                return self.server.call_tool(tool_name, arguments)
            return self.server.call_tool(tool_name, arguments, meta=meta)

        return await self._step(f"MCP call: {self.name}/{tool_name}", request, _CALL)

    async def list_prompts(self) -> ListPromptsResult:
        return await self._step(f"MCP list prompts: {self.name}", self.server.list_prompts, _PROMPTS)

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None) -> GetPromptResult:
        return await self._step(
            f"MCP get prompt: {self.name}/{name}", lambda: self.server.get_prompt(name, arguments), _PROMPT
        )

    async def list_resources(self, cursor: str | None = None) -> ListResourcesResult:
        return await self._step(
            f"MCP list resources: {self.name}", lambda: self.server.list_resources(cursor), _RESOURCES
        )

    async def list_resource_templates(self, cursor: str | None = None) -> ListResourceTemplatesResult:
        return await self._step(
            f"MCP list resource templates: {self.name}",
            lambda: self.server.list_resource_templates(cursor),
            _TEMPLATES,
        )

    async def read_resource(self, uri: str) -> ReadResourceResult:
        return await self._step(
            f"MCP read resource: {self.name}/{json.dumps(uri)}", lambda: self.server.read_resource(uri), _READ
        )


_WRAPPERS: weakref.WeakKeyDictionary[MCPServer, DurableMCPServer] = weakref.WeakKeyDictionary()


def _durable(server: MCPServer) -> DurableMCPServer:
    """One wrapper (and so one connection) per server object, however many agents share it."""
    if isinstance(server, DurableMCPServer):
        return server
    wrapper = _WRAPPERS.get(server)
    if wrapper is None:
        wrapper = _WRAPPERS[server] = DurableMCPServer(server)
    return wrapper


def make_mcp_durable(agent: AgentBase) -> None:
    """Journal the MCP servers of ``agent`` and of every agent reachable from it.

    Each agent's ``mcp_servers`` list is replaced, once, by the same servers wrapped in
    :class:`DurableMCPServer`; the agents stay usable outside Restate, where the wrappers pass
    requests straight through. ``DurableRunner`` calls this before every run.
    """
    for reachable in reachable_agents(agent):
        servers = reachable.mcp_servers
        if any(not isinstance(server, DurableMCPServer) for server in servers):
            reachable.mcp_servers = [_durable(server) for server in servers]
