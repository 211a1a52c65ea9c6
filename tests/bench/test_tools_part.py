"""The benchmark's ``tools`` part runs and prints its rows (no figures are checked: times are the
machine's, and ``./dev bench`` is where they are read)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import tools

pytestmark = pytest.mark.server  # the part starts its own restate-server and two served apps


def test_tools_part_runs_and_prints_every_row(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    variants = tools.run(rounds=1, log_dir=tmp_path, workers=1)
    tools.report(variants, workers=1)

    out = capsys.readouterr().out
    assert all(v.failed == 0 and len(v.latencies) == 1 for v in variants)
    for variant in variants:
        assert f"  {variant.name} " in out
    for ratio in ("ours (defaults) / plain", "ours (sequential_tools=True) / plain", "ours / plain"):
        assert ratio in out
    assert all((v.journal is not None) == v.durable for v in variants)  # every durable variant has its row
