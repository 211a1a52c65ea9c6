"""Tool approvals over plain HTTP: needs_approval calls wait durably for a human in the same invocation."""

from __future__ import annotations

import json
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest

from integrations.runtime import RestateServer, Stack, wait_until
from integrations.testing import ScriptedModelServer, text, tool_call, tool_calls

from ..conftest import Effects, app_stack

APP = "tests/apps/approvals_app.py:app"
DEFAULT_REJECTION = "Tool execution was not approved."


stack = app_stack(APP, ingress_env=True)  # the test runs the printed commands as printed


def notified(effects: Effects, count: int = 1) -> list[tuple[str, str, str]]:
    """(tool, arguments, awakeable id) of each approval request the hook saw, once ``count`` arrived."""

    def requests() -> list[tuple[str, str, str]]:
        entries = [line.split(":", 1)[1] for line in effects.lines() if line.startswith("notify:")]
        parsed = []
        for entry in entries:
            tool, rest = entry.split(":", 1)
            arguments, awakeable_id = rest.rsplit(":", 1)
            parsed.append((tool, arguments, awakeable_id))
        return parsed

    wait_until(lambda: len(requests()) >= count, timeout=60, what=f"{count} approval request(s)")
    return requests()


def service_log(tmp_path: Path) -> str:
    return "".join(path.read_text() for path in sorted((tmp_path / "logs").glob("service-*.log")))


def printed_command(tmp_path: Path, awakeable_id: str, payload: str) -> list[str]:
    """Every line of the service's output that is the resolve command for ``awakeable_id``."""
    suffix = f"/restate/awakeables/{awakeable_id}/resolve --json '{payload}'"
    return [line.split(": ", 1)[1] for line in service_log(tmp_path).splitlines() if line.endswith(suffix)]


def run_printed(command: str) -> None:
    subprocess.run(shlex.split(command), check=True, capture_output=True, timeout=30)


def transfer_awaiting_approval(
    stack: Stack,
    model_server: ScriptedModelServer,
    effects: Effects,
    amount: int,
    to: str,
    answer: str,
    *,
    target: tuple[str, str] = ("bank", "run"),
    key: str | None = None,
) -> tuple[str, tuple[str, str, str]]:
    """Start ``send {amount} to {to}`` (the model calls ``transfer``, then answers ``answer``) and wait for
    its approval request: the invocation id and (tool, arguments, awakeable id) as the hook saw them."""
    model_server.enqueue(tool_call("transfer", {"amount": amount, "to": to}), text(answer))
    invocation = stack.ingress.send(*target, f"send {amount} to {to}", key=key)
    [request] = notified(effects)
    return invocation, request


def test_approved_call_waits_suspended_survives_a_kill_and_runs_once(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects, any_server: RestateServer, tmp_path: Path
) -> None:
    invocation, (tool, arguments, awakeable_id) = transfer_awaiting_approval(
        stack, model_server, effects, 10, "bob", "sent it"
    )
    assert (tool, json.loads(arguments)) == ("transfer", {"amount": 10, "to": "bob"})
    wait_until(lambda: any_server.invocation_status(invocation) == "suspended", timeout=90, what="suspended")
    assert effects.count("transfer:10:bob") == 0

    stack.kill_service()
    stack.start_service()
    [command] = printed_command(tmp_path, awakeable_id, "true")  # printed once, not again on replay
    # who waits is on every line, so two pending approvals are told apart
    assert f"[bank/run {invocation}] Tool call waiting for approval: transfer(" in service_log(tmp_path)
    assert f"[bank/run {invocation}]   reject:  curl " in service_log(tmp_path)
    run_printed(command)
    assert stack.ingress.attach(invocation) == "sent it"

    assert effects.count("transfer:10:bob") == 1
    assert len(model_server.requests) == 2
    assert model_server.requests[1].tool_outputs() == ["sent 10 to bob"]
    assert len(printed_command(tmp_path, awakeable_id, "true")) == 1
    assert len(notified(effects)) == 1  # the hook ran once too


REJECT_AWAKEABLE = object()


@pytest.mark.parametrize(
    ("payload", "told"),
    [
        (False, DEFAULT_REJECTION),
        ({"approved": False, "message": "over your limit"}, "over your limit"),
        (REJECT_AWAKEABLE, "fraud suspected"),  # POST .../reject with a reason: a "no" with that reason
    ],
)
def test_rejected_call_never_runs_and_the_model_is_told(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects, payload: object, told: str
) -> None:
    invocation, (_, _, awakeable_id) = transfer_awaiting_approval(
        stack, model_server, effects, 99, "eve", "could not send"
    )
    if payload is REJECT_AWAKEABLE:
        stack.ingress.reject_awakeable(awakeable_id, "fraud suspected")
    else:
        stack.ingress.resolve_awakeable(awakeable_id, payload)
    assert stack.ingress.attach(invocation) == "could not send"
    assert effects.count("transfer:99:eve") == 0
    assert model_server.requests[1].tool_outputs() == [told]


def test_several_calls_in_one_turn_each_get_a_decision(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(
        tool_calls(("transfer", {"amount": 1, "to": "ann"}), ("balance", {}), ("transfer", {"amount": 2, "to": "ben"})),
        text("done"),
    )
    invocation = stack.ingress.send("bank", "run", "two transfers")
    first, second = notified(effects, 2)
    assert [json.loads(first[1])["to"], json.loads(second[1])["to"]] == ["ann", "ben"]
    stack.ingress.resolve_awakeable(second[2], True)  # the order of the answers does not matter
    stack.ingress.resolve_awakeable(first[2], {"approved": False, "message": "not ann"})
    assert stack.ingress.attach(invocation) == "done"
    assert effects.count("transfer:2:ben") == 1 and effects.count("transfer:1:ann") == 0
    # the SDK runs the call that needs no approval before interrupting, so its output comes first
    assert model_server.requests[1].tool_outputs() == ["balance: 100", "not ann", "sent 2 to ben"]
    assert effects.lines().count("transfer:2:ben") == 1


@pytest.mark.parametrize(
    ("handler", "ran", "told"),
    [
        ("reject_on_timeout", 0, "The tool call was not approved within 1 second."),
        ("approve_on_timeout", 1, "sent 5 to tim"),
    ],
)
def test_timeout_applies_the_default_decision(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects, handler: str, ran: int, told: str
) -> None:
    model_server.enqueue(tool_call("transfer", {"amount": 5, "to": "tim"}), text("finished"))
    assert stack.ingress.call("bank", handler, "send 5 to tim") == "finished"
    assert effects.count("transfer:5:tim") == ran
    assert model_server.requests[1].tool_outputs() == [told]


def test_invalid_decision_fails_with_a_clear_error(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    from integrations.runtime import IngressError

    key = f"desk-{uuid.uuid4().hex[:8]}"
    invocation, (_, _, awakeable_id) = transfer_awaiting_approval(
        stack, model_server, effects, 7, "zed", "never", target=("Desk", "ask"), key=key
    )
    stack.ingress.resolve_awakeable(awakeable_id, "yes please")
    with pytest.raises(IngressError) as failure:
        stack.ingress.attach(invocation)
    assert "must be resolved with true, false" in failure.value.message
    assert failure.value.status == 400
    assert effects.count("transfer:7:zed") == 0 and len(model_server.requests) == 1
    assert stack.ingress.call("Desk", "pending", key=key) == {"requests": []}  # no stale request is listed


def test_approvals_none_returns_the_interrupted_result(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    model_server.enqueue(tool_call("transfer", {"amount": 3, "to": "sam"}))
    assert stack.ingress.call("bank", "interrupted", "send 3 to sam") == {"pending": ["transfer"], "output": None}
    assert effects.count("transfer:3:sam") == 0 and not any(line.startswith("notify:") for line in effects.lines())


def test_virtual_object_lists_pending_approvals_from_a_shared_handler(
    stack: Stack, model_server: ScriptedModelServer, effects: Effects
) -> None:
    key = f"desk-{uuid.uuid4().hex[:8]}"
    model_server.enqueue(tool_call("transfer", {"amount": 42, "to": "kim"}), text("transferred"))
    assert stack.ingress.call("Desk", "pending", key=key) == {"requests": []}
    invocation = stack.ingress.send("Desk", "ask", "send 42 to kim", key=key)
    [(_, _, awakeable_id)] = notified(effects)

    [request] = stack.ingress.call("Desk", "pending", key=key)["requests"]  # shared: not blocked by the wait
    assert request["awakeable_id"] == awakeable_id
    assert (request["tool_name"], json.loads(request["arguments"]), request["agent"]) == (
        "transfer",
        {"amount": 42, "to": "kim"},
        "Banker",
    )

    stack.ingress.resolve_awakeable(awakeable_id, True)
    assert stack.ingress.attach(invocation) == "transferred"
    assert stack.ingress.call("Desk", "pending", key=key) == {"requests": []}
    assert effects.count("transfer:42:kim") == 1
    history = stack.ingress.call("Desk", "history", key=key)
    assert [item.get("role") or item.get("type") for item in history] == [
        "user",
        "function_call",
        "function_call_output",
        "assistant",
    ]
