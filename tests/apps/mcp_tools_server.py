"""A real MCP server for the tests, built with the ``mcp`` package.

``python tests/apps/mcp_tools_server.py stdio`` serves it over stdio;
``python tests/apps/mcp_tools_server.py http PORT`` serves streamable HTTP on ``127.0.0.1:PORT/mcp``.
Every tool call and every tool listing appends a line to ``$EFFECTS_FILE`` (prefixed with
``$MCP_SERVER_LABEL``), so a test counts how often the server really did something, across kills
of the Restate service.
"""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp_types import Tool as MCPTool

LABEL = os.environ.get("MCP_SERVER_LABEL", "mcp")


def record(entry: str) -> None:
    with open(os.environ["EFFECTS_FILE"], "a", encoding="utf-8") as handle:
        handle.write(f"{LABEL}:{entry}\n")
        handle.flush()
        os.fsync(handle.fileno())


class RecordingServer(MCPServer):
    async def list_tools(self) -> list[MCPTool]:
        record("list")
        return await super().list_tools()


server = RecordingServer("test-tools")
_counter = 0


@server.tool()
def add(a: int, b: int) -> str:
    """Add two integers."""
    record(f"add:{a}+{b}")
    return str(a + b)


@server.tool()
def book(ref: str) -> str:
    """Book something once; every call is a real side effect."""
    record(f"book:{ref}")
    return f"booked {ref}"


@server.tool()
def count() -> str:
    """A counter that differs on every call: a replay that re-called it would see a new value."""
    global _counter
    _counter += 1
    record(f"count:{_counter}")
    return f"count={_counter}"


@server.tool()
def fail(reason: str) -> str:
    """Always fails: the MCP server reports an error result."""
    record(f"fail:{reason}")
    raise ValueError(f"cannot do it: {reason}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["http"]:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[2]))
    else:
        server.run("stdio")
