"""Fixtures of the command-line tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ._launcher import Launcher


@pytest.fixture
def launchers() -> Iterator[list[Launcher]]:
    """Launchers a test started (append them): closed when it ends, passed or failed."""
    started: list[Launcher] = []
    yield started
    for launcher in started:
        launcher.close()
