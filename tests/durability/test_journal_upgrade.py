"""An invocation suspended across an SDK upgrade resumes: its journal decodes leniently.

The run journals its model responses as an older SDK would have (items without ``status``, which
today's openai types require on messages, and with a field today's SDK does not know), is held
after its last model call, and the service is killed. It restarts with today's encoding: the
replay decodes the old entries with one warning instead of failing forever, and the run completes
without calling the model again. (restate-sdk decodes a step's result from its journaled bytes even
on the first execution, so the first process already needs, and logs, the lenient decoding too.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from integrations.runtime import RestateServer
from tests.apps.crash_app import expected_answer

from ._rig import CrashRig, effects_expected, requests_expected

TAG = "upgrade"


@pytest.fixture
def rig(any_server: RestateServer, tmp_path: Path) -> Iterator[CrashRig]:
    rig = CrashRig(any_server, tmp_path)
    yield rig
    rig.close()


def lenient_warnings(rig: CrashRig) -> int:
    log = rig.service.log_path.read_text(errors="replace")
    return log.count("journaled model response decoded leniently: message item does not validate")


def test_a_journal_written_by_an_older_sdk_replays_after_the_upgrade(rig: CrashRig) -> None:
    old_sdk = rig.workdir / "old-sdk"
    old_sdk.touch()

    def upgrade() -> None:
        rig.service.kill()
        old_sdk.unlink()
        rig.release(TAG)
        rig.service.start()

    before = -1

    def crash() -> None:
        nonlocal before
        before = lenient_warnings(rig)
        upgrade()

    outcome = rig.run(TAG, held_at="end", crash=crash)

    assert outcome.answer == expected_answer(TAG)
    assert outcome.requests_per_turn == requests_expected(None)  # every response came from the old journal
    assert outcome.effect_runs == effects_expected(None)
    assert outcome.resent_after_journaled == [] and outcome.rerun_after_journaled == []
    assert lenient_warnings(rig) == before + 1  # the restarted process warned, once
