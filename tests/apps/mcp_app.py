"""Agents with real MCP servers (stdio and streamable HTTP) under DurableRunner."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import restate
from agents import Agent, RunConfig, RunContextWrapper, function_tool
from agents.mcp import MCPServerStdio, MCPServerStdioParams, MCPServerStreamableHttp

from integrations.openai_agents import DurableRunner, raise_restate_errors
from tests.apps._support import record_effect, wait_for_gate

SERVER_SCRIPT = str(Path(__file__).with_name("mcp_tools_server.py"))

STDIO_PARAMS: MCPServerStdioParams = {
    "command": sys.executable,
    "args": [SERVER_SCRIPT, "stdio"],
    "env": {"EFFECTS_FILE": os.environ["EFFECTS_FILE"], "MCP_SERVER_LABEL": "stdio"},
}
stdio_tools = MCPServerStdio(params=STDIO_PARAMS, name="stdio-tools")
http_tools = MCPServerStreamableHttp(
    params={"url": os.environ.get("MCP_HTTP_URL", "http://127.0.0.1:9/mcp")}, name="http-tools"
)


@function_tool(failure_error_function=raise_restate_errors)
async def checkpoint(wrapper: RunContextWrapper[restate.Context], label: str) -> str:
    """Pass a checkpoint (the test holds the run here with a gate)."""
    record_effect(f"checkpoint:{label}")
    await wait_for_gate(label)
    return f"passed {label}"


stdio_agent = Agent[restate.Context](
    name="StdioAgent", instructions="Use the MCP tools.", tools=[checkpoint], mcp_servers=[stdio_tools]
)
# the same tools, but booking needs a person's approval (the MCP server's require_approval policy)
guarded_tools = MCPServerStdio(
    params=STDIO_PARAMS,
    name="guarded-tools",
    require_approval={"book": "always"},
)
guarded_agent = Agent[restate.Context](
    name="GuardedAgent", instructions="Use the MCP tools.", mcp_servers=[guarded_tools]
)
http_agent = Agent[restate.Context](
    name="HttpAgent", instructions="Use the MCP tools.", tools=[checkpoint], mcp_servers=[http_tools]
)

mcp_service = restate.Service("mcp")


@mcp_service.handler()
async def stdio(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(stdio_agent, message, context=ctx, run_config=RunConfig(model="gpt-4o"))
    return result.final_output_as(str)


@mcp_service.handler()
async def http(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(http_agent, message, context=ctx, run_config=RunConfig(model="gpt-4o"))
    return result.final_output_as(str)


@mcp_service.handler()
async def guarded(ctx: restate.Context, message: str) -> str:
    result = await DurableRunner.run(guarded_agent, message, context=ctx, run_config=RunConfig(model="gpt-4o"))
    return result.final_output_as(str)


app = restate.app([mcp_service])
