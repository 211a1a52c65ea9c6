"""The Tour of Agents for Google ADK (agents/adk_tour), chapter by chapter, with the curls of its
launch.toml run as a reader runs them, against the tour's own offline model.

One restate-server of its own (the OpenAI tour registers services of the same names, some of
another kind) and one served app for the whole module; ``./dev test-replay`` makes that server
replay every step at every await. Approvals are resolved with the command the service printed.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.runtime import Ingress, IngressError, RestateServer, Stack, wait_until
from integrations.runtime._launch_spec import LaunchSpec, load_launch_file
from integrations.runtime.serve import load_target
from integrations.settings import always_replay
from integrations.testing import ModelRequest, ScriptedModelServer

from ..conftest import REPO_ROOT

FOLDER = REPO_ROOT / "agents" / "adk_tour"
SPEC: LaunchSpec = load_launch_file(FOLDER / "launch.toml")
responder = load_target(f"{FOLDER / 'offline_model.py'}:responder")

APPROVE = re.compile(r"approve: (curl \S+/restate/awakeables/(\S+)/resolve --json 'true')")
SUBMIT = re.compile(r"Submit your claim review via:\n\s*(curl \S+/restate/awakeables/(\S+)/resolve --json 'true')")


@dataclass
class AdkTour:
    """The served tour on the module's restate-server, its offline model, and ways to look inside."""

    server: RestateServer
    stack: Stack
    model: ScriptedModelServer
    logs: Path

    def curl(self, title: str) -> str:
        """The launch.toml example ``title``, with this server's ingress port."""
        (example,) = [e for e in SPEC.examples if e.title == title or e.title.startswith(f"{title} (")]
        return example.curl.replace("{ingress}", str(self.server.ingress_port))

    def run(self, title: str) -> Any:
        """Run the example's curl as printed; its JSON answer (for ``/send``: the invocation)."""
        argv = [*shlex.split(self.curl(title)), "--silent", "--show-error", "--fail-with-body"]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return json.loads(result.stdout)

    def service_log(self) -> str:
        return "".join(path.read_text() for path in sorted(self.logs.glob("service-*.log")))

    def printed(self, pattern: re.Pattern[str], offset: int) -> re.Match[str]:
        """The first match of ``pattern`` the service printed after ``offset`` characters of log."""
        wait_until(lambda: pattern.search(self.service_log()[offset:]) is not None, timeout=60, what=pattern.pattern)
        match = pattern.search(self.service_log()[offset:])
        assert match is not None
        return match

    def journal(self, invocation: str) -> list[dict[str, Any]]:
        rows = self.server.query(
            f"SELECT index, entry_type, name FROM sys_journal WHERE id = '{invocation}' ORDER BY index"
        )
        return [{"name": "", **row} for row in rows]

    def steps(self, invocation: str) -> list[str]:
        """The journaled ``ctx.run`` steps, model calls and the ADK clock left out."""
        return [
            row["name"]
            for row in self.journal(invocation)
            if row["entry_type"] == "Command: Run" and not row["name"].startswith(("LLM call", "ADK clock"))
        ]

    def invocation(self, invocation: str) -> dict[str, Any]:
        (row,) = self.server.query(f"SELECT * FROM sys_invocation WHERE id = '{invocation}'")
        return row

    def children(self, invocation: str) -> list[tuple[str, str, str]]:
        rows = self.server.query(
            "SELECT target_service_name, target_handler_name, completion_result "
            f"FROM sys_invocation WHERE invoked_by_id = '{invocation}'"
        )
        return sorted(
            (r["target_service_name"], r["target_handler_name"], r.get("completion_result", "")) for r in rows
        )

    def last(self, service: str) -> str:
        """The id of the newest invocation of ``service``."""
        rows = self.server.query(
            f"SELECT id FROM sys_invocation WHERE target_service_name = '{service}' ORDER BY created_at DESC LIMIT 1"
        )
        return str(rows[0]["id"])


@pytest.fixture(scope="module")
def tour(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdkTour]:
    tmp = tmp_path_factory.mktemp("adk-tour")
    with (
        RestateServer(base_dir=tmp / "restate", always_replay=always_replay()) as server,
        ScriptedModelServer(responder) as model,
    ):
        env: dict[str, str | None] = {
            **model.client_env(),
            **SPEC.offline_env,
            "APPROVAL_TIMEOUT_SECONDS": "1",
            "DURABLE_AGENTS_INGRESS_URL": server.ingress_url,
        }
        stack = Stack(server, f"{FOLDER / SPEC.target}", env=env, log_dir=tmp / "logs").start()
        try:
            yield AdkTour(server, stack, model, tmp / "logs")
        finally:
            stack.stop()


@pytest.fixture(autouse=True)
def fresh_model(tour: AdkTour) -> None:
    tour.model.reset()


def system_of(request: ModelRequest) -> str:
    return request.system.partition("\n")[0]


# -- durable execution ---------------------------------------------------------------------------


def test_durable_agent_journals_the_weather_tool_once(tour: AdkTour) -> None:
    answer = tour.run("durable agent")

    assert (
        answer
        == "[offline model] The weather right now: San Francisco: 23°C, Sunny (sample data, not a real forecast)."
    )
    asked, answered = tour.model.requests
    assert asked.tool_names() == ["get_weather"] and '"temperature": 23' in answered.tool_outputs()[0]
    assert tour.steps(tour.last("WeatherAgent")) == ["Tool: get_weather"]


def test_denver_retries_the_tool_step_without_asking_the_model_again(tour: AdkTour) -> None:
    curl = tour.curl("durable agent: retries").replace("/WeatherAgent/run ", "/WeatherAgent/run/send ")
    result = subprocess.run(shlex.split(curl), capture_output=True, text=True, timeout=30, check=True)
    invocation = json.loads(result.stdout)["invocationId"]

    def failed_attempts() -> int:
        row = tour.invocation(invocation)
        return int(row.get("retry_count") or 0) if "SIMULATED" in str(row.get("last_failure")) else 0

    wait_until(lambda: failed_attempts() >= 2, timeout=60, what="the Denver step to be retried")
    assert tour.invocation(invocation)["status"] != "completed"
    assert len(tour.model.requests) == 1  # the retries replay the journaled model answer
    assert tour.steps(invocation) == ["Tool: get_weather"]
    httpx.patch(f"{tour.server.admin_url}/invocations/{invocation}/kill", timeout=10).raise_for_status()  # clean up
    wait_until(lambda: tour.invocation(invocation)["status"] == "completed", timeout=30, what="the kill")


# -- human in the loop ---------------------------------------------------------------------------


def test_human_approval_waits_for_the_printed_command_then_answers(tour: AdkTour) -> None:
    offset = len(tour.service_log())
    invocation = tour.run("human approval")["invocationId"]
    approve = tour.printed(APPROVE, offset)
    assert tour.invocation(invocation)["status"] in ("running", "suspended")

    subprocess.run(shlex.split(approve.group(1)), capture_output=True, timeout=30, check=True)
    answer = tour.stack.ingress.attach(invocation)

    assert answer == "[offline model] A human reviewer approved the claim: it will be reimbursed."
    asked, told = tour.model.requests  # the approval was journaled: the model is not asked again
    assert asked.tool_names() == ["human_approval"] and json.loads(told.tool_outputs()[0]) == {"result": "approved"}
    assert tour.steps(invocation) == ["Approval request: human_approval", "Tool: human_approval"]
    assert tour.service_log()[offset:].count(approve.group(2)) == 3  # printed once: approve, reject, reject-with-reason


def test_human_approval_with_timeout_lets_the_agent_decide(tour: AdkTour) -> None:
    offset = len(tour.service_log())
    invocation = tour.run("human approval with timeout")["invocationId"]
    tour.printed(APPROVE, offset)  # asked, and nobody answers (APPROVAL_TIMEOUT_SECONDS=1 here)
    answer = tour.stack.ingress.attach(invocation)

    assert answer == "[offline model] No reviewer answered in time, so I evaluated the claim myself: approved."
    told = tour.model.requests[-1]
    assert json.loads(told.tool_outputs()[0]) == {"result": "Approval timed out - Evaluate with AI"}
    assert tour.steps(invocation) == ["Approval request: human_approval"]  # ADK rejected it: no tool step


def test_sub_workflow_approval_is_a_service_of_its_own(tour: AdkTour) -> None:
    offset = len(tour.service_log())
    invocation = tour.run("sub-workflow")["invocationId"]
    submit = tour.printed(SUBMIT, offset)
    assert tour.children(invocation) == [("HumanApprovalWorkflow", "review", "")]

    subprocess.run(shlex.split(submit.group(1)), capture_output=True, timeout=30, check=True)
    answer = tour.stack.ingress.attach(invocation)

    assert answer == "[offline model] A human reviewer approved the claim: it will be reimbursed."
    assert tour.children(invocation) == [("HumanApprovalWorkflow", "review", "success")]
    assert len(tour.model.requests) == 2
    assert tour.steps(invocation) == []  # the tool's one durable action is the call, not a step


# -- sessions -------------------------------------------------------------------------------------


def test_chat_remembers_the_session_and_get_history_lists_it(tour: AdkTour) -> None:
    first = tour.run("sessions")
    second = tour.run("sessions: the same conversation remembers")
    history = tour.run("sessions: the history")

    assert first.startswith("[offline model] (message 1 of this chat) A poem:")
    assert second.startswith("[offline model] (message 2 of this chat) Shorter:")
    assert tour.model.requests[1].user_texts() == ["Make a poem about durable execution.", "Shorten it to 2 lines."]
    assert history == [
        {"role": "user", "text": "Make a poem about durable execution."},
        {"role": "assistant", "text": first},
        {"role": "user", "text": "Shorten it to 2 lines."},
        {"role": "assistant", "text": second},
    ]


# -- orchestration --------------------------------------------------------------------------------


def test_multi_agent_transfers_to_the_medical_specialist(tour: AdkTour) -> None:
    answer = tour.run("multi-agent")

    assert answer == "[offline model] medical_specialist: the orthopedic claim of 3000 is approved."
    intake, specialist = tour.model.requests
    assert "transfer_to_agent" in intake.tool_names() and "Route insurance claims" in intake.system
    assert "Review medical claims" in specialist.system


def test_remote_agents_are_two_concurrent_service_calls(tour: AdkTour) -> None:
    answer = tour.run("remote agents")

    assert answer == "[offline model] Decision: approve the claim (eligible, low risk)."
    invocation = tour.last("RemoteMultiAgentClaimApproval")
    assert tour.children(invocation) == [
        ("EligibilityAgent", "run_eligibility_agent", "success"),
        ("FraudAgent", "run_fraud_agent", "success"),
    ]
    journal = tour.journal(invocation)
    calls = [row["index"] for row in journal if row["entry_type"] == "Command: Call"]
    results = [row["index"] for row in journal if row["entry_type"] == "Notification: Call"]
    assert len(calls) == 2 and max(calls) < min(results)  # both in flight at once
    assert len(tour.model.requests) == 4  # coordinator twice, each specialist once


# -- parallel work --------------------------------------------------------------------------------


def test_parallel_tool_steps_run_together(tour: AdkTour) -> None:
    answer = tour.run("parallel tool steps")

    assert answer == "[offline model] Decision: approve the claim (eligible, reasonable, low risk)."
    invocation = tour.last("ParallelToolClaimAgent")
    assert tour.steps(invocation) == ["eligibility", "cost", "fraud"]
    journal = tour.journal(invocation)
    started = [row["index"] for row in journal if row["name"] in ("eligibility", "cost", "fraud")]
    first_done = min(r["index"] for r in journal if r["entry_type"] == "Notification: Run" and r["index"] > started[0])
    assert started[-1] < first_done  # all three in flight before the first result


def test_parallel_agents_then_a_decision(tour: AdkTour) -> None:
    answer = tour.run("parallel agents")

    analyses = "Eligibility: eligible Cost: reasonable Fraud: low risk"
    assert answer == f"[offline model] Decision: approve the claim ({analyses})."
    invocation = tour.last("ParallelAgentClaimApproval")
    assert [c[0] for c in tour.children(invocation)] == ["EligibilityAgent", "FraudAgent", "RateComparisonAgent"]
    journal = tour.journal(invocation)
    calls = [row["index"] for row in journal if row["entry_type"] == "Command: Call"]
    results = [row["index"] for row in journal if row["entry_type"] == "Notification: Call"]
    assert len(calls) == 3 and max(calls) < min(results)
    assert len(tour.model.requests) == 4


# -- error handling -------------------------------------------------------------------------------


def test_error_handling_gives_up_after_three_attempts_and_answers(tour: AdkTour) -> None:
    answer = tour.run("error handling")

    assert answer == "Sorry, I'm unable to process your request at the moment."
    invocation = tour.last("ErrorHandlingAgent")
    assert tour.invocation(invocation)["completion_result"] == "success"
    assert tour.steps(invocation) == ["Tool: get_weather"]
    assert len(tour.model.requests) == 1  # the model was not asked again, not told of the failure


# -- bad input ------------------------------------------------------------------------------------


def test_malformed_bodies_fail_at_once_on_every_handler(tour: AdkTour) -> None:
    services = httpx.get(f"{tour.server.admin_url}/services", timeout=10).json()["services"]
    handlers = [(s["name"], h["name"], s["ty"] == "VirtualObject") for s in services for h in s["handlers"]]
    assert len(handlers) == 16  # 15 services, Chat with two handlers
    body = {"message": {"x": 1}, "amount": "lots"}  # wrong for every request model, and for a str
    impatient = Ingress(tour.server.ingress_url, timeout=30)  # a retry loop would time out here
    try:
        for service, handler, keyed in handlers:
            with pytest.raises(IngressError) as failure:
                impatient.call(service, handler, body, key="bad-input" if keyed else None)
            assert failure.value.status == 400, (service, handler, failure.value.body)
    finally:
        impatient.close()
    assert tour.model.requests == []


# -- launch.toml ----------------------------------------------------------------------------------


def test_every_example_is_run_by_a_test_and_the_demo_answers(tour: AdkTour) -> None:
    source = Path(__file__).read_text()
    for example in SPEC.examples:
        chapter = example.title.partition(" (")[0]
        assert f'"{chapter}"' in source, f"no test runs the launch.toml example {example.title!r}"
    assert SPEC.demo is not None
    answer = tour.stack.ingress.call(SPEC.demo.service, SPEC.demo.handler, SPEC.demo.payload)
    assert answer.startswith("[offline model] The weather right now: San Francisco: 23°C")


def test_rollback_cancels_the_hotel_when_the_flight_fails(tour: AdkTour) -> None:
    offset = len(tour.service_log())
    argv = [*shlex.split(tour.curl("rollback")), "--silent", "--show-error"]
    failed = subprocess.run(argv, capture_output=True, text=True, timeout=120)

    assert "Flight booking failed" in failed.stdout  # the invocation failed with the booking's error
    invocation = tour.last("BookingWithRollbackAgent")
    assert tour.invocation(invocation)["completion_result"] == "failure"
    assert tour.steps(invocation) == ["Book hotel", "Book flight", "Cancel flight", "Cancel hotel"]
    printed = [line for line in tour.service_log()[offset:].splitlines() if line.startswith("Cancelling")]
    assert printed == ["Cancelling flight booking booking_123", "Cancelling hotel booking booking_123"]
    hotel, flight = tour.model.requests  # no third turn: the failure ended the run
    assert hotel.tool_outputs() == [] and "Downtown San Francisco" in flight.tool_outputs()[0]
