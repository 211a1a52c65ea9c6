"""The streams package on its own: no model SDK needed, and wake-ups that cross processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from integrations.streams._hints import HINT_DIR_ENV, hints

from ..conftest import REPO_ROOT

BLOCK_SDKS = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("agents", "openai", "litellm"):
            raise ImportError(f"{name} is not installed here")
sys.meta_path.insert(0, Block())
import integrations.streams
print(sorted(m for m in sys.modules if m.split(".")[0] in ("agents", "openai", "litellm")))
"""


def test_integrations_streams_imports_no_model_sdk() -> None:
    done = subprocess.run(
        [sys.executable, "-c", BLOCK_SDKS], cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


NOTIFY = "from integrations.streams._hints import hints; hints.notify({topic!r})"


def test_a_notify_in_another_process_wakes_a_reader_here_and_a_dead_socket_is_cleaned_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "h"
    folder.mkdir()
    monkeypatch.setenv(HINT_DIR_ENV, str(folder))
    dead = folder / "1-dead.sock"  # a process that died without removing its socket
    orphan = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    orphan.bind(str(dead))
    orphan.close()

    async def wait_for_hint() -> bool:
        with hints.subscribe("Chat:42") as other, hints.subscribe("Chat:7") as hint:
            env = {**os.environ, HINT_DIR_ENV: str(folder)}
            notify = [sys.executable, "-c", NOTIFY.format(topic="Chat:7")]
            await asyncio.to_thread(subprocess.run, notify, cwd=REPO_ROOT, env=env, check=True, timeout=60)
            await asyncio.wait_for(hint.wait(), timeout=30)
            return other.is_set()

    assert asyncio.run(wait_for_hint()) is False  # only the topic's own readers are woken
    assert not dead.exists()
    assert [p.name for p in folder.iterdir() if p.name.startswith(f"{os.getpid()}-")]  # this process's socket
