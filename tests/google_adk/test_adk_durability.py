"""Kill a Google ADK agent run at each of its journal points, on a real restate-server.

The run (``tests/apps/adk_crash_app.py``, ``integrations.google_adk``, ADK's ``LiteLlm`` against
the scripted model server): model call 1 -> two parallel tool calls -> model call 2 -> a tool
call that waits for a person's approval (``require_confirmation``, an awakeable) -> the tool ->
model call 3. It is held at a point, the service (or the server) is SIGKILLed there and started
again, and the run must finish with the crash-free answer, without re-sending a model request whose
answer was journaled and without running a tool body whose result was journaled again.

The default suite kills at a sample of the points (one of each kind); ``ADK_KILL_SWEEP=N`` kills at
every point, N times each (``ADK_KILL_SWEEP=3 ./dev test -n 0 tests/google_adk/test_adk_durability.py``).

Also here: a session continuing across a server and a service restart, and multi-agent runs
(``sub_agents`` transfer, Sequential/Parallel/Loop agents) on an always-replay server, bounded: a
run whose attempt fails even once (a journal mismatch, an exception Restate would retry forever)
fails the test at once. What ``tests/google_adk/test_adk_runs.py`` covers is not repeated: the
approval across a restart with the printed command, the error classes, a kill mid-tool.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from integrations.runtime import Ingress, IngressError, RestateServer, wait_until
from integrations.settings import always_replay
from tests.apps._adk_crash_points import APPROVED_TOOL, MODEL_CALLS, PARALLEL_TOOLS, POINTS

from ._crash_rig import (
    APPROVAL_WAIT,
    KILL_POINTS,
    AdkCrashRig,
    Outcome,
    effects_expected,
    expected_answer,
    requests_expected,
)

SWEEP = int(os.environ.get("ADK_KILL_SWEEP") or 0)
"""Kill at every point this many times each (0: the default suite's sample)."""

SAMPLE = [
    "model1:answered",  # answered, not journaled: the one request that must be sent again
    f"{PARALLEL_TOOLS[0]}:inside",  # inside one parallel tool, its sibling's result journaled
    f"{PARALLEL_TOOLS[1]}:journaled",  # after both parallel results were journaled
    "model2:journaled",
    APPROVAL_WAIT,  # waiting for the person: the approval survives the restart, announced once
    f"{APPROVED_TOOL}:inside",
    "model3:call",
]


def _points() -> list[Any]:
    if SWEEP <= 0:
        return SAMPLE
    return [pytest.param(point, id=f"{point}-{n}") for n in range(SWEEP) for point in KILL_POINTS]


def _tag(point: str) -> str:
    return f"kill-{point.replace(':', '-')}-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def rig(replay_server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdkCrashRig]:
    workdir = Path(tmp_path_factory.mktemp("adk-crash"))
    # a server of this module's own, since one test kills it (it replays at every await under
    # ./dev test-replay); the always-replay server is the session's
    server = RestateServer(base_dir=workdir / "restate", always_replay=always_replay()).start()
    rig = AdkCrashRig(server, replay_server, workdir)
    try:
        yield rig
    finally:
        rig.close()
        server.stop()


@pytest.fixture(scope="module")
def crash_free(rig: AdkCrashRig) -> Outcome:
    outcome = rig.run("crash-free")
    assert outcome.answer == expected_answer("crash-free")  # the script's answer names every tool's output
    assert outcome.requests_per_turn == requests_expected(None)
    assert outcome.effect_runs == effects_expected(None)
    assert outcome.approvals_announced == 1
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == [], outcome
    return outcome


def _commands(outcome: Outcome) -> list[str]:
    """The journal's commands in order (notifications arrive as their steps finish: timing)."""
    return [entry for entry in outcome.journal if entry.startswith("Command:")]


def test_kill_points_cover_every_step_of_the_run() -> None:
    # 3 model calls x (before the request, answered-not-journaled, journaled), 3 tools x (inside the
    # body, journaled), the approval (waiting for it, decided), handler start and end
    assert len(KILL_POINTS) == 3 * 3 + 3 * 2 + 2 + 2 == len(set(KILL_POINTS))
    assert set(SAMPLE) <= set(KILL_POINTS) and set(POINTS) < set(KILL_POINTS)
    assert MODEL_CALLS == 3


@pytest.mark.parametrize("point", _points())
def test_service_killed_at_point_resumes_from_the_journal(rig: AdkCrashRig, crash_free: Outcome, point: str) -> None:
    tag = _tag(point)
    outcome = rig.run(tag, killed_at=point, crash=lambda: rig.kill_service_and_restart(tag))

    assert outcome.reached == (0 if point == APPROVAL_WAIT else 1)  # the kill landed at this point...
    assert outcome.answer == expected_answer(tag)  # ...and the restarted run finished as a crash-free one
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == [], outcome
    assert outcome.requests_per_turn == requests_expected(point), outcome
    assert outcome.effect_runs == effects_expected(point), outcome
    assert outcome.approvals_announced == 1  # the journaled announcement is not printed again on replay
    assert _commands(outcome) == _commands(crash_free)  # the same steps, none journaled twice


@pytest.mark.parametrize(
    ("point", "landed_in"),
    [
        ("model1:answered", "model1"),  # inside model step 1: the orphan's answer cannot be journaled
        (f"{PARALLEL_TOOLS[1]}:journaled", "model2"),  # between steps: the orphan may send request 2
    ],
)
def test_server_killed_mid_run_resumes_from_its_persisted_journal(
    rig: AdkCrashRig, crash_free: Outcome, point: str, landed_in: str
) -> None:
    """The service lives on: the interrupted attempt is orphaned, and restate-sdk 1.3.0 may start the
    next ``ctx.run`` in it before it notices the server is gone (the bound
    tests/durability/test_server_crash.py asserts too). So the step the crash landed in may run
    twice; every step journaled before the crash runs once."""
    tag = _tag(point)
    outcome = rig.run(tag, killed_at=point, crash=lambda: rig.kill_server_and_restart(tag))

    assert outcome.reached == 1
    assert outcome.answer == expected_answer(tag)
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == [], outcome
    for turn, must in requests_expected(point).items():
        assert outcome.requests_per_turn[turn] in ({must, 2} if landed_in == f"model{turn}" else {must}), outcome
    assert outcome.effect_runs == effects_expected(point), outcome
    assert outcome.approvals_announced == 1
    assert _commands(outcome) == _commands(crash_free)


def test_a_session_continues_across_server_and_service_restarts_with_its_events_intact(
    rig: AdkCrashRig, crash_free: Outcome
) -> None:
    session = f"session-{uuid.uuid4().hex[:6]}"
    first = rig.run(session)
    assert first.answer == expected_answer(session)
    before: list[dict[str, Any]] = rig.ingress.call("AdkCrash", "history", key=session)
    assert [event["author"] for event in before] == ["user", "trip", "trip", "trip", "trip", "trip"]

    rig.server.kill()  # between the turns: the session lives in the server's persisted state
    rig.server.start()
    second_tag = f"{session} again"
    point = f"{PARALLEL_TOOLS[1]}:inside"
    second = rig.run(
        second_tag, killed_at=point, crash=lambda: rig.kill_service_and_restart(second_tag), session=session
    )

    assert second.answer == expected_answer(second_tag)
    assert second.effect_runs == effects_expected(point) and second.requests_per_turn == requests_expected(point)
    after: list[dict[str, Any]] = rig.ingress.call("AdkCrash", "history", key=session)
    assert after[: len(before)] == before  # the earlier events, ids and timestamps included, untouched
    assert len(after) == 2 * len(before) and len({event["id"] for event in after}) == len(after)
    requests = [r for r in rig.model.requests if r.last_user_text == second_tag]
    assert requests[0].user_texts()[0] == session  # the model saw the first turn...
    assert expected_answer(session).removeprefix("trip planned: ")[:40] in str(requests[0].items)  # ...and its answer


# --- multi-agent runs on an always-replay server ---------------------------------------------------
def _flow(rig: AdkCrashRig, app: str, message: str) -> tuple[str, str]:
    """Run ``AdkFlows`` app ``app`` on the always-replay server; fail at once if any attempt fails
    (bounded: a run Restate would retry forever shows here as its first failure)."""
    session = f"{app}-{uuid.uuid4().hex[:6]}"
    ingress: Ingress = rig.replay_ingress
    invocation = ingress.send("AdkFlows", "flow", {"message": message, "app": app}, key=session)

    def done() -> bool:
        rows = rig.replay.query(f"SELECT status, last_failure FROM sys_invocation WHERE id = '{invocation}'")
        if rows and rows[0].get("last_failure"):
            pytest.fail(f"{app}: an attempt failed, Restate would retry it: {rows[0]['last_failure']}")
        return bool(rows) and rows[0].get("status") == "completed"

    wait_until(done, timeout=90, what=f"the {app} run to complete")
    answer = ingress.attach(invocation)
    assert isinstance(answer, str)
    return answer, session


def _requests(rig: AdkCrashRig, topic: str) -> int:
    return sum(1 for r in rig.model.requests if r.user_texts()[:1] == [topic])


def test_sub_agent_transfer_is_deterministic_under_always_replay(rig: AdkCrashRig) -> None:
    topic = f"refund order {uuid.uuid4().hex[:6]}"
    answer, session = _flow(rig, "transfer", topic)
    assert answer == 'billing: {"result": "refunded ' + topic + '"}'
    assert rig.effects.count(f"refund:{topic}") == 1  # replayed at every await, run once
    assert _requests(rig, topic) == 3  # coordinator, billing's tool call, billing's answer: none paid twice
    authors = rig.replay_ingress.call("AdkFlows", "authors", key=session)
    assert authors[0] == "user" and authors.index("billing") > authors.index("coordinator")


def test_sequential_agent_under_always_replay(rig: AdkCrashRig) -> None:
    topic = f"tides {uuid.uuid4().hex[:6]}"
    answer, _ = _flow(rig, "pipeline", topic)
    assert answer == f"facts about {topic}\nessay on {topic}"
    assert _requests(rig, topic) == 2


def test_parallel_agent_with_tools_under_always_replay(rig: AdkCrashRig) -> None:
    topic = f"report {uuid.uuid4().hex[:6]}"
    answer, _ = _flow(rig, "fan_out", topic)
    assert sorted(answer.splitlines()) == [f"{b}: " + _weather(f"{b} {topic}") for b in ("North", "South")]
    for branch in ("North", "South"):  # two branches, concurrent, replayed at every await
        assert rig.effects.count(f"weathered:{branch} {topic}") == 1
    assert _requests(rig, topic) == 4


def _weather(city: str) -> str:
    return '{"city": "' + city + '", "temperature": 21.5, "sky": "sunny"}'


def test_loop_agent_under_always_replay(rig: AdkCrashRig) -> None:
    topic = f"draft {uuid.uuid4().hex[:6]}"
    answer, _ = _flow(rig, "loop", topic)
    assert answer == "draft 1"
    assert _requests(rig, topic) == 2  # the draft, then exit_loop: its journaled escalation ends the loop


def test_the_sdk_s_own_adk_plugin_cannot_run_a_sequential_agent(rig: AdkCrashRig) -> None:
    """The contrast to the tests above: ``restate.ext.adk``'s ``RestatePlugin`` (restate-sdk 1.3.0)
    raises a TerminalError in ``before_agent_callback`` for any agent but an ``LlmAgent``. ADK wraps
    it in a ``RuntimeError``, whose cause the SDK finds: the run fails at once, terminally (it is
    not retried forever, as docs/google-adk.md claimed before this test), without a model call."""
    topic = f"peer tides {uuid.uuid4().hex[:6]}"
    invocation = rig.replay_ingress.send("AdkPeerFlows", "peer_flow", topic, key=topic.replace(" ", "-"))
    with pytest.raises(IngressError) as failure:
        rig.replay_ingress.attach(invocation)
    assert "RestatePlugin only supports LlmAgent agents" in failure.value.message
    rows = rig.replay.query(f"SELECT retry_count FROM sys_invocation WHERE id = '{invocation}'")
    assert int(rows[0].get("retry_count") or 0) <= 1, rows  # one attempt: not retried
    assert _requests(rig, topic) == 0
