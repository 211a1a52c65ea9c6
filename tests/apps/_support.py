"""Helpers for served test apps: record side effects and block on gates, via files the test
process can see (they survive a kill -9 of the service process)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path


def record_effect(entry: str) -> None:
    """Append one line to $EFFECTS_FILE: the test counts how often a side effect really ran."""
    with open(os.environ["EFFECTS_FILE"], "a", encoding="utf-8") as handle:
        handle.write(entry + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def gate_path(name: str) -> Path:
    return Path(os.environ["GATE_DIR"]) / f"gate-{name}"


async def wait_for_gate(name: str, timeout: float = 60.0) -> None:
    """Block until the test opens gate ``name`` (creates the file): lets a test kill mid-step."""
    path = gate_path(name)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not path.exists():
        if loop.time() > deadline:
            raise TimeoutError(f"gate {name} was never opened")
        await asyncio.sleep(0.02)


def stamped(entry: str) -> str:
    """``entry@<time.monotonic()>``: the system-wide monotonic clock, comparable with the scripted
    model server's ``received_at``, so a test can tell whether anything ran after it was journaled."""
    return f"{entry}@{time.monotonic():.6f}"


def crash_file(tag: str, gate_dir: str | Path | None = None) -> Path:
    """The file that holds run ``tag`` at the point it names (``$GATE_DIR`` in the app)."""
    return Path(gate_dir or os.environ["GATE_DIR"]) / f"crash-{tag}"


def held_at(tag: str) -> str | None:
    """The point the crash file of run ``tag`` names, if there is one."""
    try:
        return crash_file(tag).read_text().strip()
    except FileNotFoundError:
        return None
