"""SIGKILL the service at every point of a 3-tool agent run, restart it, and check the run.

Each run of ``tests/apps/crash_app.py`` (4 model calls, 3 tools with one side effect each) is held
at point *k* with a gate, the service process is killed there, the hold is lifted and the service
restarted. Every run must complete with the answer of a crash-free run, no model call may be
re-sent once its response was journaled, and each side effect runs once, twice only when the crash
landed inside it. On both server kinds: the always-replay server replays every step of every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.runtime import RestateServer
from tests.apps.crash_app import POINTS, expected_answer

from ._rig import CrashRig, Outcome, effects_expected, requests_expected

TAG = "trip"


@pytest.fixture(scope="module")
def rig(any_server: RestateServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashRig]:
    rig = CrashRig(any_server, Path(tmp_path_factory.mktemp("crash")))
    yield rig
    rig.close()


@pytest.fixture(scope="module")
def crash_free(rig: CrashRig) -> Outcome:
    outcome = rig.run(TAG)
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == [], outcome
    assert outcome.answer == expected_answer(TAG)  # the script's answer names every tool's output
    assert outcome.requests_per_turn == requests_expected(None)
    assert outcome.effect_runs == effects_expected(None)
    return outcome


def test_points_cover_every_step_of_the_run() -> None:
    # 4 model calls x (before the request, answered-not-journaled, journaled), 3 tools x
    # (before, inside the effect, after it was journaled), handler start and end
    assert len(POINTS) == 4 * 3 + 3 * 3 + 2 == len(set(POINTS))


@pytest.mark.parametrize("point", POINTS)
def test_service_killed_at_point_resumes_from_the_journal(rig: CrashRig, crash_free: Outcome, point: str) -> None:
    outcome = rig.run(TAG, held_at=point, crash=lambda: rig.kill_service_and_restart(TAG))

    assert outcome.reached == 1  # the crash landed at this point, and the restarted run passed it
    assert outcome.answer == crash_free.answer
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == [], outcome
    assert outcome.requests_per_turn == requests_expected(point)
    assert outcome.effect_runs == effects_expected(point)
