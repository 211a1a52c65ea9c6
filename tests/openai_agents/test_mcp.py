"""Durable MCP: real MCP server processes (stdio and streamable HTTP) behind DurableRunner."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator

import pytest

from integrations.runtime import IngressError, RestateServer, Stack, free_port, wait_until
from integrations.runtime._ports import port_open
from integrations.testing import ScriptedModelServer, text, tool_call, tool_calls
from integrations.testing.pytest_plugin import ServeFactory

from ..conftest import APPS, REPO_ROOT, Effects

APP = "tests/apps/mcp_app.py:app"


@pytest.fixture
def mcp_http_url(effects: Effects) -> Iterator[str]:
    """The test MCP server over streamable HTTP, in its own process (it outlives service kills)."""
    port = free_port()
    env = dict(os.environ, EFFECTS_FILE=str(effects.path), MCP_SERVER_LABEL="http")
    process = subprocess.Popen(
        [sys.executable, str(APPS / "mcp_tools_server.py"), "http", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: port_open(port), timeout=30, what="MCP HTTP server")
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture
def stack(
    any_server: RestateServer, serve: ServeFactory, model_server: ScriptedModelServer, mcp_http_url: str
) -> Stack:
    return serve(any_server, APP, model=model_server, env={"MCP_HTTP_URL": mcp_http_url})


def service_output(stack: Stack) -> str:
    return "".join(path.read_text() for path in stack.log_dir.glob("service-*.log"))


def journal_names(server: RestateServer, invocation_id: str) -> list[str]:
    rows = server.query(f"SELECT name FROM sys_journal WHERE id = '{invocation_id}' ORDER BY index")
    return [row.get("name", "") for row in rows]


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_mcp_call_runs_once_across_a_service_kill(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects, any_server: RestateServer, transport: str
) -> None:
    model_server.enqueue(
        tool_calls(("book", {"ref": "R1"}), ("checkpoint", {"label": f"after-{transport}"})),
        text("booked and done"),
    )
    invocation = stack.ingress.send("mcp", transport, "book R1")
    effects.wait_for(f"checkpoint:after-{transport}")  # the MCP call's step has been journaled
    assert effects.count(f"{transport}:book:R1") == 1
    stack.kill_service()
    stack.start_service()
    effects.open_gate(f"after-{transport}")
    assert stack.ingress.attach(invocation) == "booked and done"

    assert effects.count(f"{transport}:book:R1") == 1  # the replay returned the journaled result
    assert len(model_server.requests) == 2
    assert model_server.requests[1].tool_outputs() == ["booked R1", f"passed after-{transport}"]
    assert model_server.requests[0].tool_names() == model_server.requests[1].tool_names()
    assert set(model_server.requests[0].tool_names()) == {"add", "book", "count", "fail", "checkpoint"}
    # the tool list: once per turn, as one journaled step each, never re-listed on replay
    assert effects.count(f"{transport}:list") == 2
    names = journal_names(any_server, invocation)
    assert names.count(f"MCP list tools: {transport}-tools") == 2
    assert names.count(f"MCP call: {transport}-tools/book") == 1


def test_mcp_results_and_errors_are_replayed_not_recomputed(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    # count() answers differently on every real call: a re-call on replay would change the answer
    model_server.enqueue(
        tool_call("count"),
        tool_call("count"),
        tool_call("fail", {"reason": "no stock"}),
        tool_call("add", {"a": "not a number", "b": 1}),
        text("counted"),
    )
    assert stack.ingress.call("mcp", "stdio", "count twice") == "counted"
    outputs = model_server.requests[-1].tool_outputs()
    assert outputs[:2] == ["count=1", "count=2"]
    assert [line for line in effects.lines() if line.startswith("stdio:count")] == ["stdio:count:1", "stdio:count:2"]
    # an isError result is a value: journaled once, not retried, and the model is told
    assert effects.count("stdio:fail:no stock") == 1
    assert "Error executing tool fail" in outputs[2]
    assert "validation error" in outputs[3].lower() and effects.count("stdio:add:not a number+1") == 0
    assert effects.count("stdio:list") == 5 == len(model_server.requests)


def test_mcp_tool_that_needs_approval_waits_for_a_person(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("book", {"ref": "R9"}), text("booked after approval"))
    invocation = stack.ingress.send("mcp", "guarded", "book R9")
    wait_until(lambda: "resolve --json 'true'" in service_output(stack), timeout=60, what="the approval command")
    assert effects.count("stdio:book:R9") == 0
    [awakeable_id] = re.findall(r"awakeables/([^/]+)/resolve --json 'true'", service_output(stack))
    stack.ingress.resolve_awakeable(awakeable_id, True)
    assert stack.ingress.attach(invocation) == "booked after approval"
    assert effects.count("stdio:book:R9") == 1
    assert model_server.requests[1].tool_outputs() == ["booked R9"]


def test_an_unknown_tool_ends_the_run_instead_of_retrying_forever(
    stack: Stack, model_server: ScriptedModelServer
) -> None:
    model_server.enqueue(tool_call("nope"))
    with pytest.raises(IngressError) as failure:
        stack.ingress.call("mcp", "http", "call a tool that does not exist")
    assert "Tool nope not found" in failure.value.message
    assert len(model_server.requests) == 1


@pytest.mark.parametrize(
    ("code", "terminal"), [(-32602, True), (-32601, True), (-32603, False), (-32000, False), (-32001, False)]
)
def test_mcp_protocol_errors_are_classified(code: int, terminal: bool) -> None:
    from mcp.shared.exceptions import MCPError
    from restate.exceptions import TerminalError

    from integrations.errors import TransientProviderError
    from integrations.openai_agents._mcp import _restate_error

    mapped = _restate_error(MCPError(code, "boom"))
    # Retryable without Retry-After: a plain exception, so the step's own retry policy sets the delay.
    assert isinstance(mapped, TerminalError if terminal else TransientProviderError)
    assert "MCP server error" in str(mapped)
