"""The Tour of Agents (agents/tour), chapter by chapter, with the tour's payloads verbatim.

Every test runs the real restate-server, the tour app served in a killable process, and the
scripted model server playing the tour's own offline responder: passing here is what offline
mode (``./dev up tour`` without ``OPENAI_API_KEY``) shows a reader. One served stack per server
kind is shared by the module; each test resets the model server's request log first.
"""

from __future__ import annotations

import itertools
import json
import re
import shlex
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from integrations.runtime import Ingress, IngressError, RestateServer, ServiceProcess, Stack, wait_until
from integrations.runtime.serve import load_target
from integrations.testing import ModelRequest, ScriptedModelServer

from ..conftest import REPO_ROOT

TOUR = REPO_ROOT / "agents" / "tour"
TARGET = f"{TOUR / 'app.py'}:app"
responder = load_target(f"{TOUR / 'offline_model.py'}:responder")

# The tour's payloads, verbatim.
WEATHER = {"message": "What is the weather like in San Francisco?"}
DENVER = {"message": "What is the weather like in Denver?"}
CLAIM_PROMPT = {"message": "Process my hospital bill of 3000USD for a broken leg."}
CHAT = {"message": "Make a poem about durable execution."}
CHAT_FOLLOW_UP = {"message": "shorten it to 2 lines"}
CLAIM = json.loads(
    '{"date":"2024-10-01","category":"orthopedic","reason":"hospital bill for a broken leg",'
    '"amount":3000,"placeOfService":"General Hospital"}'
)
MULTI_WEATHER = {"message": "What is the weather like in New York and San Francisco?"}
BOOKING = {
    "booking_id": "booking_123",
    "message": "I need to book a business trip to San Francisco from March 15-17. "
    "Flying from JFK, need a hotel downtown for 1 guest.",
}

RESOLVE = re.compile(r"curl \S+/restate/awakeables/(\S+)/resolve --json 'true'")


@dataclass
class Tour:
    """The tour app served on one restate-server, plus helpers to look into it."""

    server: RestateServer
    stack: Stack
    model: ScriptedModelServer

    @property
    def ingress(self) -> Ingress:
        return self.stack.ingress

    @property
    def service(self) -> ServiceProcess:
        return self.stack.services[0]

    @property
    def log(self) -> Path:
        assert self.service.log_path is not None
        return self.service.log_path

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        with open(self.log, "rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", errors="replace")

    def journal(self, invocation: str) -> list[dict[str, Any]]:
        rows = self.server.query(
            f"SELECT index, entry_type, name FROM sys_journal WHERE id = '{invocation}' ORDER BY index"
        )
        return [{"name": "", **row} for row in rows]  # NULL columns are absent from a row

    def steps(self, invocation: str) -> list[str]:
        """Names of the journaled ``ctx.run`` steps, model calls left out, in journal order."""
        return [
            row["name"]
            for row in self.journal(invocation)
            if row["entry_type"] == "Command: Run" and not row["name"].startswith("LLM call")
        ]

    def invocation(self, invocation: str) -> dict[str, Any]:
        rows = self.server.query(f"SELECT * FROM sys_invocation WHERE id = '{invocation}'")
        assert rows, f"no invocation {invocation}"
        return rows[0]

    def children(self, invocation: str) -> list[dict[str, Any]]:
        return self.server.query(
            "SELECT id, target_service_name, target_handler_name, status, completion_result "
            f"FROM sys_invocation WHERE invoked_by_id = '{invocation}'"
        )

    def state(self, service: str, key: str, name: str) -> Any:
        rows = self.server.query(
            "SELECT value_utf8 FROM state "
            f"WHERE service_name = '{service}' AND service_key = '{key}' AND key = '{name}'"
        )
        return json.loads(rows[0]["value_utf8"]) if rows else None


@pytest.fixture(scope="module")
def tour_model() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(responder) as model:
        yield model


class Tours:
    """One served tour per restate-server, started on first use and shared by the module."""

    def __init__(self, model: ScriptedModelServer, log_root: Path) -> None:
        self.model, self.log_root = model, log_root
        self._tours: dict[int, Tour] = {}

    def on(self, server: RestateServer) -> Tour:
        """The tour served on ``server``, running, with a fresh scripted model."""
        if id(server) not in self._tours:
            env = dict(self.model.client_env())
            env.update(WEATHER_OFFLINE="1", DURABLE_AGENTS_INGRESS_URL=server.ingress_url)
            stack = Stack(server, TARGET, env=env, log_dir=self.log_root / str(len(self._tours))).start()
            self._tours[id(server)] = Tour(server, stack, self.model)
        tour = self._tours[id(server)]
        if not tour.service.running:  # a failed test may have left it down
            tour.service.start()
        self.model.reset()
        return tour

    def stop(self) -> None:
        for tour in self._tours.values():
            tour.stack.stop()


@pytest.fixture(scope="module")
def tours(tour_model: ScriptedModelServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tours]:
    served = Tours(tour_model, tmp_path_factory.mktemp("tour-logs"))
    yield served
    served.stop()


@pytest.fixture
def tour(restate_server: RestateServer, tours: Tours) -> Tour:
    return tours.on(restate_server)


@pytest.fixture
def any_tour(any_server: RestateServer, tours: Tours) -> Tour:
    return tours.on(any_server)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def run_printed_command(command: str) -> None:
    """Run the resolve command exactly as printed, the way a reader pastes it into a shell."""
    argv = [*shlex.split(command), "--silent", "--show-error", "--fail"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


# -- durable agent + retries -----------------------------------------------------------------------


def test_weather_agent_answers_through_the_get_weather_step(any_tour: Tour) -> None:
    invocation = any_tour.ingress.send("WeatherAgent", "run", WEATHER)
    answer = any_tour.ingress.attach(invocation)

    assert "San Francisco: 14°C, Fog (offline sample data, not real weather)" in answer
    assert any_tour.steps(invocation) == ["Get weather"]
    first, second = any_tour.model.requests
    assert "get_weather" in first.tool_names() and first.body.get("parallel_tool_calls") is False
    assert "temperature=14.0" in second.tool_outputs()[0]


def test_denver_retries_the_weather_step_until_the_line_is_removed_and_the_service_restarted(
    tour: Tour, tmp_path: Path
) -> None:
    invocation = tour.ingress.send("WeatherAgent", "run", DENVER)

    def failed_attempts() -> int:
        row = tour.invocation(invocation)
        return int(row.get("retry_count") or 0) if "SIMULATED" in str(row.get("last_failure")) else 0

    wait_until(lambda: failed_attempts() >= 3, timeout=60, what="the Denver step to be retried")
    assert tour.invocation(invocation)["status"] != "completed"
    assert tour.steps(invocation) == ["Get weather"]
    assert len(tour.model.requests) == 1  # retries replay the journaled model answer

    # The documented fix, done to a copy of the tour: delete the fail_on_denver line, restart.
    fixed = tmp_path / "tour"
    shutil.copytree(TOUR, fixed, ignore=shutil.ignore_patterns("__pycache__"))
    utils = fixed / "tour_of_agents" / "utils" / "utils.py"
    source = utils.read_text()
    assert source.count("    fail_on_denver(city)\n") == 1
    utils.write_text(source.replace("    fail_on_denver(city)\n", ""))
    tour.stack.kill_service()
    try:
        with ServiceProcess(f"{fixed / 'app.py'}:app", port=tour.service.port, env=tour.service.env):
            answer = tour.ingress.attach(invocation)
    finally:
        tour.stack.start_service()

    assert "Denver: 8°C, Clear and windy" in answer
    assert len(tour.model.requests) == 2
    assert tour.steps(invocation) == ["Get weather"]


# -- human approval ----------------------------------------------------------------------------------


APPROVAL_CHAPTERS = ["HumanClaimApprovalAgent", "HumanClaimApprovalWithTimeoutsAgent", "SubWorkflowClaimApprovalAgent"]


def _wait_for_resolve_command(tour: Tour, offset: int) -> str:
    wait_until(lambda: RESOLVE.search(tour.log_since(offset)) is not None, timeout=30, what="the resolve command")
    match = RESOLVE.search(tour.log_since(offset))
    assert match is not None
    return match.group(0)


@pytest.mark.parametrize("service", APPROVAL_CHAPTERS)
def test_approval_prints_the_resolve_command_waits_survives_a_kill_and_completes(any_tour: Tour, service: str) -> None:
    offset = any_tour.log_size()
    invocation = any_tour.ingress.send(service, "run", CLAIM_PROMPT)
    command = _wait_for_resolve_command(any_tour, offset)
    awakeable = RESOLVE.search(command).group(1)  # type: ignore[union-attr]
    address = any_tour.server.ingress_url.removeprefix("http://")
    assert command == f"curl {address}/restate/awakeables/{awakeable}/resolve --json 'true'"
    assert "Human review requested:" in any_tour.log_since(offset)

    waiting = invocation
    if service == "SubWorkflowClaimApprovalAgent":  # the workflow waits; the agent waits for it
        (child,) = any_tour.children(invocation)
        assert (child["target_service_name"], child["target_handler_name"]) == (
            "HumanApprovalWorkflow",
            "requestApproval",
        )
        waiting = child["id"]
        assert any_tour.steps(invocation) == [] and any_tour.steps(waiting) == ["Request review"]
    else:
        assert any_tour.steps(invocation) == ["Request review"]
    for pending in {invocation, waiting}:
        assert any_tour.invocation(pending)["status"] in ("running", "suspended")

    any_tour.stack.kill_service()  # kill -9 while waiting for the human
    any_tour.stack.start_service()
    assert any_tour.invocation(invocation)["status"] != "completed"

    run_printed_command(command)
    answer = any_tour.ingress.attach(invocation)

    assert answer == "[offline model] A human reviewer approved the claim: it will be reimbursed."
    assert len(any_tour.model.requests) == 2  # the tool call was journaled, not asked for again
    assert any_tour.model.requests[0].tool_names() == ["human_approval"]
    assert any_tour.log_since(offset).count(awakeable) == 1  # printed once, not on every replay


def test_approval_timeout_lets_the_agent_decide(any_tour: Tour) -> None:
    service = any_tour.service
    service.env["APPROVAL_TIMEOUT_SECONDS"] = "1"
    service.kill()
    service.start()
    try:
        offset = any_tour.log_size()
        invocation = any_tour.ingress.send("HumanClaimApprovalWithTimeoutsAgent", "run", CLAIM_PROMPT)
        _wait_for_resolve_command(any_tour, offset)  # asked, and nobody answers
        answer = any_tour.ingress.attach(invocation)
    finally:
        del service.env["APPROVAL_TIMEOUT_SECONDS"]
        service.kill()
        service.start()

    assert answer.startswith("[offline model] No reviewer answered in time, so I evaluated the claim myself")
    assert any_tour.model.requests[-1].tool_outputs() == ["Approval timed out - Evaluate with AI"]
    assert any_tour.steps(invocation) == ["Request review"]


# -- sessions ------------------------------------------------------------------------------------------


def _text(item: dict[str, Any]) -> str:
    return ModelRequest._text_of(item.get("content"))


def test_chat_remembers_and_get_history_returns_every_item(any_tour: Tour) -> None:
    key = unique("session123")
    first = any_tour.ingress.call("Chat", "message", CHAT, key=key)
    second = any_tour.ingress.call("Chat", "message", CHAT_FOLLOW_UP, key=key)

    assert first.startswith("[offline model] (message 1 of this chat) A poem:")
    assert second.startswith("[offline model] (message 2 of this chat) Shorter:")
    remembered = any_tour.model.requests[1]
    assert remembered.user_texts() == [CHAT["message"], CHAT_FOLLOW_UP["message"]]
    assert first in [_text(item) for item in remembered.items]  # its own earlier answer, too

    history = any_tour.ingress.call("Chat", "get_history", key=key)
    assert [(item["role"], _text(item)) for item in history] == [
        ("user", CHAT["message"]),
        ("assistant", first),
        ("user", CHAT_FOLLOW_UP["message"]),
        ("assistant", second),
    ]
    assert any_tour.state("Chat", key, "items") == history


def test_chat_queues_concurrent_messages_per_session(tour: Tour) -> None:
    run = unique("run")
    sends = [  # the tour's eight concurrent sends to five sessions
        ("session123", "make a poem about durable execution"),
        ("session456", "what are the benefits of durable execution?"),
        ("session789", "how does workflow orchestration work?"),
        ("session123", "can you make it rhyme better?"),
        ("session456", "what about fault tolerance in distributed systems?"),
        ("session789", "give me a practical example"),
        ("session101", "explain event sourcing in simple terms"),
        ("session202", "what is the difference between async and sync processing?"),
    ]
    ids = [tour.ingress.send("Chat", "message", {"message": m}, key=f"{s}-{run}") for s, m in sends]
    answers = [tour.ingress.attach(i) for i in ids]
    assert all(a.startswith("[offline model]") for a in answers)

    for session in sorted({s for s, _ in sends}):
        mine = [(i, m) for i, (s, m) in zip(ids, sends, strict=True) if s == session]
        history = tour.ingress.call("Chat", "get_history", key=f"{session}-{run}")
        assert [_text(item) for item in history if item.get("role") == "user"] == [m for _, m in mine]
        for earlier, later in itertools.pairwise(mine):  # one turn at a time per session, in send order
            assert tour.invocation(later[0])["running_at"] >= tour.invocation(earlier[0])["completed_at"]
            assert f"Earlier you said: {earlier[1]!r}" in answers[ids.index(later[0])]


# -- orchestration -------------------------------------------------------------------------------------


def test_multi_agent_hands_off_to_the_medical_specialist_and_keeps_it(any_tour: Tour) -> None:
    key = unique("session123")
    first = any_tour.ingress.call("MultiAgentClaimApproval", "run", CLAIM, key=key)

    assert first == "[offline model] MedicalSpecialist: the orthopedic claim of 3000 is approved."
    intake, specialist = any_tour.model.requests
    assert intake.system.startswith("Route insurance claims") and "transfer_to_medicalspecialist" in intake.tool_names()
    assert specialist.system.startswith("Review medical claims")
    assert any_tour.state("MultiAgentClaimApproval", key, "last_agent_name") == "MedicalSpecialist"

    second = any_tour.ingress.call("MultiAgentClaimApproval", "run", CLAIM, key=key)
    assert second == first
    resumed = any_tour.model.requests[2]
    assert resumed.system.startswith("Review medical claims") and resumed.tool_names() == []  # no intake again
    assert len(resumed.user_texts()) == 2  # with the session's history
    assert len(any_tour.model.requests) == 3


def test_remote_agents_are_called_as_sub_invocations(any_tour: Tour) -> None:
    invocation = any_tour.ingress.send("RemoteMultiAgentClaimApproval", "run", CLAIM)
    answer = any_tour.ingress.attach(invocation)

    assert answer == "[offline model] Decision: approve the claim (analyses: eligible low risk)."
    children = any_tour.children(invocation)
    assert sorted((c["target_service_name"], c["target_handler_name"], c["completion_result"]) for c in children) == [
        ("EligibilityAgent", "run_eligibility_agent", "success"),
        ("FraudAgent", "run_fraud_agent", "success"),
    ]
    coordinator = [r for r in any_tour.model.requests if "check_fraud" in r.tool_names()]
    assert len(coordinator) == 3 and len(any_tour.model.requests) == 5


def test_claims_accept_the_tours_camel_case_and_snake_case(tour: Tour) -> None:
    snake = {("place_of_service" if k == "placeOfService" else k): v for k, v in CLAIM.items()}
    for claim in (CLAIM, snake):
        assert tour.ingress.call("FraudAgent", "run_fraud_agent", claim) == "low risk"
    asked = [json.loads(r.last_user_text) for r in tour.model.requests]
    assert asked[0] == asked[1] and asked[0]["place_of_service"] == "General Hospital"


# -- parallel work -------------------------------------------------------------------------------------


def test_parallel_tool_steps_journal_eligibility_cost_and_fraud(any_tour: Tour) -> None:
    invocation = any_tour.ingress.send("ParallelToolClaimAgent", "run", CLAIM)
    answer = any_tour.ingress.attach(invocation)

    assert answer == "[offline model] Decision: approve the claim (analyses: ['eligible', 'reasonable', 'low risk'])."
    assert any_tour.steps(invocation) == ["eligibility", "cost", "fraud"]
    journal = any_tour.journal(invocation)
    started = [row["index"] for row in journal if row["name"] in ("eligibility", "cost", "fraud")]
    first_result = min(
        row["index"] for row in journal if row["entry_type"] == "Notification: Run" and row["index"] > started[0]
    )
    assert started == [started[0], started[0] + 1, started[0] + 2] and started[-1] < first_result  # all three in flight


def test_parallel_agents_run_as_three_sub_invocations_then_decide(any_tour: Tour) -> None:
    invocation = any_tour.ingress.send("ParallelAgentClaimApproval", "run", CLAIM)
    answer = any_tour.ingress.attach(invocation)

    analyses = "Eligibility: eligible Cost: reasonable Fraud: low risk"
    assert answer == f"[offline model] Decision: approve the claim (analyses: {analyses})."
    children = any_tour.children(invocation)
    agents = sorted(c["target_service_name"] for c in children)
    assert agents == ["EligibilityAgent", "FraudAgent", "RateComparisonAgent"]
    assert all(c["completion_result"] == "success" for c in children)
    journal = any_tour.journal(invocation)
    calls = [row["index"] for row in journal if row["entry_type"] == "Command: Call"]
    results = [row["index"] for row in journal if row["entry_type"] == "Notification: Call"]
    assert len(calls) == len(results) == 3 and max(calls) < min(results)  # all three in flight at once
    assert analyses in any_tour.model.requests[-1].last_user_text


# -- advanced ------------------------------------------------------------------------------------------


def test_manual_loop_calls_get_weather_for_both_cities(any_tour: Tour) -> None:
    invocation = any_tour.ingress.send("ManualLoopAgent", "run", MULTI_WEATHER)
    answer = any_tour.ingress.attach(invocation)

    assert "New York: 9°C" in answer and "San Francisco: 14°C" in answer
    assert [r.api for r in any_tour.model.requests] == ["chat", "chat"]  # the raw client's chat completions
    names = [row["name"] for row in any_tour.journal(invocation) if row["entry_type"] == "Command: Run"]
    assert names == ["llm-call", "Get weather", "Get weather", "llm-call"]


def test_rollback_cancels_flight_then_hotel_and_fails(any_tour: Tour) -> None:
    offset = any_tour.log_size()
    invocation = any_tour.ingress.send("BookingWithRollbackAgent", "book", BOOKING)
    with pytest.raises(IngressError) as failure:
        any_tour.ingress.attach(invocation)

    assert "Flight booking failed" in failure.value.message
    assert any_tour.invocation(invocation)["completion_result"] == "failure"
    assert any_tour.steps(invocation) == ["Book hotel", "Book flight", "Cancel flight", "Cancel hotel"]
    printed = [line for line in any_tour.log_since(offset).splitlines() if line.startswith("Cancelling")]
    assert printed == ["Cancelling flight booking booking_123", "Cancelling hotel booking booking_123"]
    asked_hotel, asked_flight = any_tour.model.requests  # no third turn: the failure ended the run
    assert asked_hotel.tool_outputs() == []
    assert "Hotel Downtown hotel, San Francisco booked" in asked_flight.tool_outputs()[0]


# -- bad input -------------------------------------------------------------------------------------------


HANDLERS = [
    ("WeatherAgent", "run", None),
    ("HumanClaimApprovalAgent", "run", None),
    ("HumanClaimApprovalWithTimeoutsAgent", "run", None),
    ("SubWorkflowClaimApprovalAgent", "run", None),
    ("HumanApprovalWorkflow", "requestApproval", None),
    ("Chat", "message", "session123"),
    ("MultiAgentClaimApproval", "run", "session123"),
    ("RemoteMultiAgentClaimApproval", "run", None),
    ("FraudAgent", "run_fraud_agent", None),
    ("EligibilityAgent", "run_eligibility_agent", None),
    ("RateComparisonAgent", "run_rate_comparison_agent", None),
    ("ParallelToolClaimAgent", "run", None),
    ("ParallelAgentClaimApproval", "run", None),
    ("ManualLoopAgent", "run", None),
    ("BookingWithRollbackAgent", "book", None),
]


def test_every_tour_handler_is_covered_by_the_bad_input_test(tour: Tour) -> None:
    services = httpx.get(f"{tour.server.admin_url}/services", timeout=10).json()["services"]
    names = {name for name, _, _ in HANDLERS} | {"Chat"}
    served = {(s["name"], h["name"]) for s in services if s["name"] in names for h in s["handlers"]}
    assert served == {(s, h) for s, h, _ in HANDLERS} | {("Chat", "get_history")}


def test_malformed_bodies_fail_at_once_on_every_handler(tour: Tour) -> None:
    impatient = Ingress(tour.server.ingress_url, timeout=30)  # a retry loop would time out here
    try:
        for service, handler, key in HANDLERS:
            with pytest.raises(IngressError) as failure:
                impatient.call(service, handler, {"message": {"x": 1}}, key=None if key is None else unique(key))
            assert "validation error" in failure.value.message, (service, handler, failure.value.body)
        # No body at all reads as {}: the tour's default question, or a claim's missing fields.
        with pytest.raises(IngressError) as failure:
            impatient.call("ParallelToolClaimAgent", "run")
        assert "Field required" in failure.value.message
        assert impatient.call("WeatherAgent", "run").startswith("[offline model] The weather right now: San Francisco")
    finally:
        impatient.close()
    assert len(tour.model.requests) == 2  # only the default weather question reached the model


# -- launch.toml -------------------------------------------------------------------------------------------


def test_launch_file_names_existing_targets_and_registered_handlers(tour: Tour) -> None:
    import tomllib

    spec = tomllib.loads((TOUR / "launch.toml").read_text())
    assert spec["name"] == "tour" and spec["target"] == "app.py:app"
    assert callable(load_target(f"{TOUR / spec['offline_responder'].split(':')[0]}:responder"))
    services = httpx.get(f"{tour.server.admin_url}/services", timeout=10).json()["services"]
    handlers = {(s["name"], h["name"]) for s in services for h in s["handlers"]}
    for example in spec["examples"]:
        path = re.search(r"localhost:\{ingress\}/(\S+)", example["curl"]).group(1)  # type: ignore[union-attr]
        parts = path.removesuffix("/send").split("/")
        assert (parts[0], parts[-1]) in handlers, example
        body = re.search(r"--json '(.*)'$", example["curl"])
        if body:
            json.loads(body.group(1))
    demo = spec["demo"]
    answer = tour.ingress.call(demo["service"], demo["handler"], demo["payload"])
    assert answer.startswith("[offline model] The weather right now: San Francisco")
