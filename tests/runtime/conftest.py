"""Fixtures of the command-line tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import pytest

from ._launcher import Launcher

T = TypeVar("T")


@contextmanager
def stopped_at_the_end(stop: Callable[[T], None]) -> Iterator[list[T]]:
    """A list a test appends the processes it started to: each is stopped with ``stop`` when the
    test ends, passed or failed, so a failing test leaves nothing running."""
    started: list[T] = []
    try:
        yield started
    finally:
        for item in started:
            stop(item)


@pytest.fixture
def launchers() -> Iterator[list[Launcher]]:
    """Launchers a test started (append them): closed when it ends, passed or failed."""
    with stopped_at_the_end(Launcher.close) as started:
        yield started
