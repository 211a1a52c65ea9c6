"""``durable-agents up NAME --demo`` run as a user runs it from the repo root, without an API key."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from integrations.runtime import free_port

from ..conftest import REPO_ROOT


def assert_demo_answers_offline(name: str, path: str, data_dir: Path) -> None:
    """Run the app's demo to its end on free ports: it says it is offline, prints the curl command for
    ``path`` on its ingress port and the offline model's answer about Detroit."""
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
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OFFLINE MODE" in result.stdout
    assert f"curl localhost:{ingress}/{path}" in result.stdout
    assert "answer: [offline model] In Detroit it is 3°C" in result.stdout
