"""``durable-agents up NAME --demo`` run as a user runs it from the repo root, without an API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from integrations.runtime import free_port

from ..conftest import REPO_ROOT


def up_demo(name: str, data_dir: Path) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run the app's demo to its end on free ports: the finished process and its ingress port."""
    ingress, admin, service = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    ports = ["--ingress-port", str(ingress), "--admin-port", str(admin), "--service-port", str(service)]
    result = subprocess.run(
        [sys.executable, "-m", "integrations.runtime", "up", name, "--demo", *ports, "--data-dir", str(data_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    return result, ingress
