"""SIGKILL the restate-server itself mid-run and restart it on its data directory.

The service keeps running; the server comes back from its persisted log and re-invokes the run,
which resumes from its journal. Same invariants as a service crash: the run completes with the
crash-free answer, no journaled model call is re-sent, a side effect runs twice only when the
crash landed inside it.

One difference is inherent to a *server* crash and asserted as such: the service process lives
on, so the interrupted attempt is orphaned until it notices the dropped connection. A step in
flight may finish in the orphan (it cannot be journaled, so it runs again after the restart: the
crash landed in it). And between steps, restate-sdk 1.3.0 starts the next ``ctx.run`` locally
before it reads the connection again, so the step right after the crash point may also run once
in the orphan. Steps journaled before the crash never run again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.runtime import RestateServer
from tests.apps.crash_app import MODEL_CALLS, TOOLS, expected_answer

from ._rig import CrashRig, effects_expected, requests_expected

TAG = "trip"


@pytest.fixture(scope="module", params=["normal", "always-replay"])
def rig(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashRig]:
    workdir = Path(tmp_path_factory.mktemp(f"server-crash-{request.param}"))
    server = RestateServer(base_dir=workdir / "restate", always_replay=request.param == "always-replay").start()
    rig = CrashRig(server, workdir)
    yield rig
    rig.close()
    server.stop()


def crash_server(rig: CrashRig) -> None:
    """SIGKILL restate-server, release the held (now orphaned) attempt, start the server again."""
    server = rig.server
    assert isinstance(server, RestateServer)  # this module's rigs run on one server, not a cluster
    server.kill()
    rig.release(TAG)
    server.start()


@pytest.mark.parametrize(
    ("point", "landed_in"),
    [
        ("model2:call", "model2"),  # inside model step 2, before its request
        ("model2:answered", "model2"),  # inside model step 2, answered, not journaled
        ("tool2:inside", "tool2"),  # inside tool 2's side effect
        ("model2:journaled", "tool2"),  # between steps: the orphan may start tool 2's effect
        ("tool2:after", "model3"),  # between steps: the orphan may send model request 3
    ],
)
def test_server_killed_mid_run_resumes_from_its_persisted_journal(rig: CrashRig, point: str, landed_in: str) -> None:
    outcome = rig.run(TAG, held_at=point, crash=lambda: crash_server(rig))

    assert outcome.reached == 1
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == [], outcome
    assert outcome.answer == expected_answer(TAG)
    # Every step ran once: all journaled before the crash stayed journaled. Only the step the crash
    # landed in may have run twice; it must have, if it had already run when the server died.
    for turn in range(1, MODEL_CALLS + 1):
        must = requests_expected(point)[turn]
        allowed = {must, 2} if landed_in == f"model{turn}" else {must}
        assert outcome.requests_per_turn[turn] in allowed, (turn, outcome)
    for index, name in enumerate(TOOLS, start=1):
        must = effects_expected(point)[name]
        allowed = {must, 2} if landed_in == f"tool{index}" else {must}
        assert outcome.effect_runs[name] in allowed, (name, outcome)
