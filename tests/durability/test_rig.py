"""The rig's time-based checks catch what they claim to (no server needed)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from integrations.testing import ModelRequest
from tests.apps.crash_app import TOOLS

from ..conftest import Effects
from ._rig import CrashRig


def _request(tag: str, tool_outputs: int, at: float) -> ModelRequest:
    items: list[dict[str, Any]] = [{"role": "user", "content": tag}]
    items += [{"type": "function_call_output", "call_id": f"c{i}", "output": "ok"} for i in range(tool_outputs)]
    return ModelRequest("responses", {"input": items}, {}, received_at=at)


def _rig(tmp_path: Path, lines: list[str], requests: list[ModelRequest]) -> CrashRig:
    rig = CrashRig.__new__(CrashRig)
    rig.effects = Effects(tmp_path / "effects.log")
    rig.effects.path.write_text("\n".join(lines) + "\n")
    rig.model = SimpleNamespace(requests=requests)  # type: ignore[assignment]
    return rig


def test_a_request_after_its_response_was_journaled_is_flagged(tmp_path: Path) -> None:
    lines = ["model-journaled:1:t@10.0", f"effect:{TOOLS[0]}:t@11.0", f"journaled:{TOOLS[0]}:t@12.0"]
    clean = _rig(tmp_path, lines, [_request("t", 0, 9.0)]).outcome("t", "a")
    assert clean.resent_after_journaled == [] and clean.rerun_after_journaled == []
    assert clean.requests_per_turn == {1: 1} and clean.effect_runs[TOOLS[0]] == 1

    resent = _rig(tmp_path, lines, [_request("t", 0, 9.0), _request("t", 0, 10.5)]).outcome("t", "a")
    assert resent.resent_after_journaled == [1]
    assert _rig(tmp_path, lines, [_request("other", 0, 10.5)]).outcome("t", "a").resent_after_journaled == []


def test_an_effect_after_its_result_was_journaled_is_flagged(tmp_path: Path) -> None:
    lines = [f"effect:{TOOLS[1]}:t@1.0", f"effect:{TOOLS[1]}:t@2.0", f"journaled:{TOOLS[1]}:t@3.0"]
    assert _rig(tmp_path, lines, []).outcome("t", "a").rerun_after_journaled == []  # re-ran before: allowed
    late = _rig(tmp_path, [*lines, f"effect:{TOOLS[1]}:t@4.0"], []).outcome("t", "a")
    assert late.rerun_after_journaled == [TOOLS[1]] and late.effect_runs[TOOLS[1]] == 3
