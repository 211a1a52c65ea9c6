"""Run ``durable-agents`` (as ``python -m integrations.runtime``) in a subprocess and watch its output."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

from integrations.runtime import wait_until


class Launcher:
    """The command as a user runs it: its own process, stdout read line by line, stopped with Ctrl-C."""

    def __init__(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: dict[str, str] | None = None,
        command: list[str] | None = None,
        drop: tuple[str, ...] = (),
    ) -> None:
        """``env`` is added to ours; ``OPENAI_API_KEY`` and the ``drop`` names are removed first."""
        base = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY" and k not in drop}
        base.update(env or {})
        self.lines: list[str] = []
        self.error_lines: list[str] = []
        self.process = subprocess.Popen(
            [*(command or [sys.executable, "-m", "integrations.runtime"]), *args],
            cwd=cwd,
            env=base,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stdout, self.lines), daemon=True),
            threading.Thread(target=self._read, args=(self.process.stderr, self.error_lines), daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: IO[str] | None, into: list[str]) -> None:
        assert stream is not None
        for line in stream:
            into.append(line.rstrip("\n"))

    def _join(self) -> None:
        for reader in self._readers:
            reader.join(timeout=5)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout: float = 120) -> None:
        def seen() -> bool:
            if text in self.output:
                return True
            if self.process.poll() is not None:
                self._join()
                if text in self.output:
                    return True
                raise AssertionError(
                    f"launcher exited with {self.process.returncode} before printing {text!r}\n"
                    f"stdout:\n{self.output}\nstderr:\n{self.errors}"
                )
            return False

        wait_until(seen, timeout=timeout, what=f"launcher output {text!r}")

    @property
    def errors(self) -> str:
        return "\n".join(self.error_lines)

    def interrupt(self, timeout: float = 60) -> int:
        """Ctrl-C, as a user stops it; return the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        code = self.process.wait(timeout=timeout)
        self._join()
        return code

    def finish(self, timeout: float = 180) -> int:
        code = self.process.wait(timeout=timeout)
        self._join()
        return code

    def close(self) -> None:
        """Stop it (SIGTERM lets it stop its server and service) if a test left it running."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def up_args(target: str, *, ingress: int, admin: int, service: int, data_dir: str | None = None) -> list[str]:
    """``up TARGET`` on the given ports (and with ``data_dir``, restate-server's data there)."""
    args = ["up", target, "--ingress-port", str(ingress), "--admin-port", str(admin), "--service-port", str(service)]
    return [*args, "--data-dir", data_dir] if data_dir else args
